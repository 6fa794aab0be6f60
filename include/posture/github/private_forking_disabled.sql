-- title: Members cannot fork private and internal repositories
-- severity: medium
-- rationale: A fork of a private repository lives in the member's account, outside the organization's access
--   control and audit log.
-- remediation: Organization settings > Member privileges > Repository forking: clear 'Allow forking of
--   private and internal repositories'.
-- baselines: GitHub docs: Managing the forking policy for your organization
-- settings: organization
select not (setting('organization')->>'members_can_fork_private_repositories')::bool as passed,
       'members_can_fork_private_repositories: ' || coalesce(setting('organization')->>'members_can_fork_private_repositories', 'null (GitHub does not say)') as detail
