-- title: GitHub Actions cannot approve pull requests
-- severity: medium
-- rationale: A workflow that can approve pull requests lets code satisfy required reviews without a human
--   reviewer.
-- remediation: Organization settings > Actions > General > Workflow permissions: clear 'Allow GitHub Actions
--   to create and approve pull requests'.
-- baselines: GitHub docs: Security hardening for GitHub Actions
-- settings: actions_workflow_permissions
-- events: org.set_workflow_permission_can_approve_pr
select not (setting('actions_workflow_permissions')->>'can_approve_pull_request_reviews')::bool as passed,
       'can_approve_pull_request_reviews: ' || coalesce(setting('actions_workflow_permissions')->>'can_approve_pull_request_reviews', 'not given') as detail
