-- title: Super admins cannot recover their own accounts
-- severity: high
-- rationale: Self-recovery by phone or email lets whoever holds that phone or mailbox take over a super admin account.
--   Evaluated on the root organizational unit's effective value and on every narrower organizational unit or group
--   with its own policy: one that weakens the setting fails the rule.
-- remediation: Admin console > Security > Authentication > Account recovery > Super admin account recovery: uncheck Allow
--   super admins to recover their account.
-- baselines: CISA SCuBA Google Workspace baseline GWS.COMMONCONTROLS.8.1v1
-- settings: security_super_admin_account_recovery
-- events: admin.CHANGE_APPLICATION_SETTING, admin.CREATE_APPLICATION_SETTING
with policies as (
    -- every policy of the setting: where it applies (an organizational unit, or a group) and its order
    select item->'policyQuery'->>'orgUnit' as org_unit,
           coalesce(item->'policyQuery'->>'group', '') as grp,
           (item->'policyQuery'->>'sortOrder')::double as sort_order,
           item->'setting'->'value'->'enableAccountRecovery' as v
    from setting_items('security_super_admin_account_recovery')
), effective as (
    -- Google's reduction: per unit or group, the policy with the greatest sortOrder that sets the field
    -- (an admin policy over the system default); a unit whose policies leave it unset inherits it
    select org_unit, grp, arg_max(v, sort_order) as v
    from policies
    where v is not null and json_type(v) <> 'NULL'
    group by org_unit, grp
)
select bool_and(not (v->>'$')::bool) as passed,
       'self-recovery allowed in ' || count(*) filter (where not (not (v->>'$')::bool)) || ' of ' || count(*) || ' organizational units / groups' as detail
from effective
