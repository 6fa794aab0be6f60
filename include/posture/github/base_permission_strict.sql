-- title: The base repository permission for members is read or none
-- severity: high
-- rationale: The base permission applies to every member on every repository: write or admin lets any member
--   push to, or reconfigure, any repository.
-- remediation: Organization settings > Member privileges > Base permissions: choose Read or No permission,
--   and grant more per team.
-- baselines: CIS Software Supply Chain Security Guide v1.0 1.3.8, GitHub docs: Best practices for
--   organizations
-- settings: organization
-- events: org.update_default_repository_permission
select (setting('organization')->>'default_repository_permission') in ('read', 'none') as passed,
       'default_repository_permission: ' || coalesce(setting('organization')->>'default_repository_permission', 'not given') as detail
