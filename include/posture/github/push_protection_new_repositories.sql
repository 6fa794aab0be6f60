-- title: Secret scanning push protection is enabled for new repositories
-- severity: medium
-- rationale: Push protection blocks a push that contains a supported secret before it lands in the
--   repository's history.
-- remediation: Organization settings > Code security > Configurations: enable push protection for new
--   repositories.
-- baselines: GitHub docs: About push protection
-- settings: organization
-- events: org.secret_scanning_push_protection_new_repos_enable,
--   org.secret_scanning_push_protection_new_repos_disable
select (setting('organization')->>'secret_scanning_push_protection_enabled_for_new_repositories')::bool as passed,
       'secret_scanning_push_protection_enabled_for_new_repositories: ' || coalesce(setting('organization')->>'secret_scanning_push_protection_enabled_for_new_repositories', 'not given') as detail
