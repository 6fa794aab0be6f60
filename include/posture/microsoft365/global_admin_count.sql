-- title: Two to eight users hold Global Administrator
-- severity: high
-- rationale: Global Administrator has unfettered access to the tenant; too many holders widen the target, fewer
--   than two leaves no one to recover the tenant. Users of a role-assignable group holding it count too.
-- remediation: Entra admin center > Roles and administrators > Global Administrator: keep two to eight users
--   (emergency access accounts included), moving the others to finer-grained roles.
-- baselines: CISA SCuBA MS.AAD.7.1v1
-- settings: global_admins
-- events: Add member to role, Remove member from role, Add eligible member to role, Remove eligible member from role
with holders as (
    select count(distinct item->>'id') as users
    from setting_items('global_admins')
    where item->>'@odata.type' = '#microsoft.graph.user'
)
select users between 2 and 8 as passed, 'users holding Global Administrator: ' || users as detail
from holders
