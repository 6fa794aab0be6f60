-- title: Between two and eight active super admins
-- severity: high
-- rationale: One super admin is a single point of failure (no one can recover the account or act when it is
--   unavailable); many super admins widen the most privileged attack surface. Counts accounts with
--   super admin privileges (isAdmin) that are neither suspended nor archived.
-- remediation: Admin console > Account > Admin roles > Super Admin: keep 2 to 8 super admins, and give
--   other administrators narrower roles.
-- baselines: CISA SCuBA Google Workspace baseline GWS.COMMONCONTROLS.6.2v1
-- settings: super_admins
-- events: admin.ASSIGN_ROLE, admin.UNASSIGN_ROLE, admin.GRANT_ADMIN_PRIVILEGE, admin.REVOKE_ADMIN_PRIVILEGE
with active as (
    select item->>'primaryEmail' as email
    from setting_items('super_admins')
    where coalesce((item->>'isAdmin')::bool, false)
      and not coalesce((item->>'suspended')::bool, false)
      and not coalesce((item->>'archived')::bool, false)
)
-- An empty list is an answer (no active super admin), not silence: it fails.
select (select count(*) from active) between 2 and 8 as passed,
       'active super admins: ' || (select count(*) from active) as detail
