-- title: The GITHUB_TOKEN is read-only by default
-- severity: high
-- rationale: A write token by default lets any workflow step, including a compromised action, push code and
--   change releases.
-- remediation: Organization settings > Actions > General > Workflow permissions: choose 'Read repository
--   contents and packages permissions'.
-- baselines: GitHub docs: Security hardening for GitHub Actions, GitHub docs: Automatic token authentication
-- settings: actions_workflow_permissions
-- events: org.set_default_workflow_permissions
select (setting('actions_workflow_permissions')->>'default_workflow_permissions') = 'read' as passed,
       'default_workflow_permissions: ' || coalesce(setting('actions_workflow_permissions')->>'default_workflow_permissions', 'not given') as detail
