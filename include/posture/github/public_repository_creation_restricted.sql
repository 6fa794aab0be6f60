-- title: Members cannot create public repositories
-- severity: high
-- rationale: A member creating a public repository publishes the organization's code to the internet in one
--   click.
-- remediation: Organization settings > Member privileges > Repository creation: clear Public.
-- baselines: CIS Software Supply Chain Security Guide v1.0 1.2.2, GitHub docs: Best practices for
--   organizations
-- settings: organization
-- events: org.update_member_repository_creation_permission
select not (setting('organization')->>'members_can_create_public_repositories')::bool as passed,
       'members_can_create_public_repositories: ' || coalesce(setting('organization')->>'members_can_create_public_repositories', 'not given') as detail
