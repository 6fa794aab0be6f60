-- title: Only local or selected actions may run
-- severity: medium
-- rationale: Allowing all actions lets any workflow run third-party code from any public repository with the
--   workflow's token and secrets.
-- remediation: Organization settings > Actions > General > Policies: choose 'Allow <org> actions and reusable
--   workflows' or a selected list (or disable Actions).
-- baselines: GitHub docs: Security hardening for GitHub Actions
-- settings: actions_permissions
-- events: org.update_actions_settings
select case when setting('actions_permissions')->>'enabled_repositories' = 'none' then true
            else (setting('actions_permissions')->>'allowed_actions') in ('local_only', 'selected') end as passed,
       'enabled_repositories: ' || coalesce(setting('actions_permissions')->>'enabled_repositories', 'not given')
       || ', allowed_actions: ' || coalesce(setting('actions_permissions')->>'allowed_actions', 'not given') as detail
