-- title: Passwords do not expire periodically
-- severity: low
-- rationale: Forced periodic changes lead to predictable passwords (NIST SP 800-63B); CISA asks for no expiry. Evaluated on
--   the root organizational unit's effective value and on every narrower organizational unit or group with its own
--   policy: one that weakens the setting fails the rule.
-- remediation: Admin console > Security > Authentication > Password management: Password reset frequency = Never expires.
-- baselines: CISA SCuBA Google Workspace baseline GWS.COMMONCONTROLS.5.6v1
-- settings: security_password
-- events: admin.CHANGE_APPLICATION_SETTING, admin.CREATE_APPLICATION_SETTING
with policies as (
    -- every policy of the setting: where it applies (an organizational unit, or a group) and its order
    select item->'policyQuery'->>'orgUnit' as org_unit,
           coalesce(item->'policyQuery'->>'group', '') as grp,
           (item->'policyQuery'->>'sortOrder')::double as sort_order,
           item->'setting'->'value'->'expirationDuration' as v
    from setting_items('security_password')
), effective as (
    -- Google's reduction: per unit or group, the policy with the greatest sortOrder that sets the field
    -- (an admin policy over the system default); a unit whose policies leave it unset inherits it
    select org_unit, grp, arg_max(v, sort_order) as v
    from policies
    where v is not null and json_type(v) <> 'NULL'
    group by org_unit, grp
)
select bool_and(replace(v->>'$', 's', '')::double = 0) as passed,
       'shortest expiry (s): ' || min(replace(v->>'$', 's', '')::double)::bigint as detail
from effective
