-- title: Secret scanning is enabled for new repositories
-- severity: medium
-- rationale: Without secret scanning, credentials committed to a new repository go unnoticed until someone
--   abuses them.
-- remediation: Organization settings > Code security > Configurations: apply a configuration with secret
--   scanning enabled to new repositories.
-- baselines: GitHub docs: About secret scanning
-- settings: organization
select (setting('organization')->>'secret_scanning_enabled_for_new_repositories')::bool as passed,
       'secret_scanning_enabled_for_new_repositories: ' || coalesce(setting('organization')->>'secret_scanning_enabled_for_new_repositories', 'not given') as detail
