-- title: Members cannot publish public GitHub Pages sites
-- severity: low
-- rationale: A public Pages site built from a private repository publishes its content to anyone.
-- remediation: Organization settings > Member privileges > Pages creation: clear Public.
-- baselines: GitHub docs: Managing the publication of GitHub Pages sites for your organization
-- settings: organization
-- events: members_can_create_public_pages.enable, members_can_create_public_pages.disable,
--   members_can_create_pages.*
select not (setting('organization')->>'members_can_create_public_pages')::bool as passed,
       'members_can_create_public_pages: ' || coalesce(setting('organization')->>'members_can_create_public_pages', 'not given') as detail
