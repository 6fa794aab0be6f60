-- title: Dependabot alerts are enabled for new repositories
-- severity: medium
-- rationale: Without Dependabot alerts, known vulnerable dependencies in new repositories are not reported to
--   their maintainers.
-- remediation: Organization settings > Code security > Configurations: enable Dependabot alerts for new
--   repositories.
-- baselines: GitHub docs: About Dependabot alerts
-- settings: organization
select (setting('organization')->>'dependabot_alerts_enabled_for_new_repositories')::bool as passed,
       'dependabot_alerts_enabled_for_new_repositories: ' || coalesce(setting('organization')->>'dependabot_alerts_enabled_for_new_repositories', 'not given') as detail
