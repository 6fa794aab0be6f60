-- title: Web sessions last at most 12 hours
-- severity: medium
-- rationale: Long sessions let a stolen cookie be used for days. Evaluated on the root organizational unit's effective
--   value and on every narrower organizational unit or group with its own policy: one that weakens the setting
--   fails the rule.
-- remediation: Admin console > Security > Access and data control > Google session control: Web session duration 12 hours or
--   less.
-- baselines: CISA SCuBA Google Workspace baseline GWS.COMMONCONTROLS.4.1v1
-- settings: security_session_controls
-- events: admin.CHANGE_APPLICATION_SETTING, admin.CREATE_APPLICATION_SETTING
with policies as (
    -- every policy of the setting: where it applies (an organizational unit, or a group) and its order
    select item->'policyQuery'->>'orgUnit' as org_unit,
           coalesce(item->'policyQuery'->>'group', '') as grp,
           (item->'policyQuery'->>'sortOrder')::double as sort_order,
           item->'setting'->'value'->'webSessionDuration' as v
    from setting_items('security_session_controls')
), effective as (
    -- Google's reduction: per unit or group, the policy with the greatest sortOrder that sets the field
    -- (an admin policy over the system default); a unit whose policies leave it unset inherits it
    select org_unit, grp, arg_max(v, sort_order) as v
    from policies
    where v is not null and json_type(v) <> 'NULL'
    group by org_unit, grp
)
select bool_and(replace(v->>'$', 's', '')::double <= 43200) as passed,
       'longest web session (s): ' || max(replace(v->>'$', 's', '')::double)::bigint as detail
from effective
