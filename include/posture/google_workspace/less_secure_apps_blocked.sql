-- title: Less secure apps (password-only sign-in) are blocked
-- severity: high
-- rationale: Less secure apps sign in with a password alone and bypass 2-Step Verification. Evaluated on the root
--   organizational unit's effective value and on every narrower organizational unit or group with its own policy:
--   one that weakens the setting fails the rule.
-- remediation: Admin console > Security > Access and data control > Less secure apps: Disable access to less secure apps.
-- baselines: CISA SCuBA Google Workspace baseline GWS.COMMONCONTROLS.10.5v1
-- settings: security_less_secure_apps
-- events: admin.WEAK_PROGRAMMATIC_LOGIN_SETTINGS_CHANGED
with policies as (
    -- every policy of the setting: where it applies (an organizational unit, or a group) and its order
    select item->'policyQuery'->>'orgUnit' as org_unit,
           coalesce(item->'policyQuery'->>'group', '') as grp,
           (item->'policyQuery'->>'sortOrder')::double as sort_order,
           item->'setting'->'value'->'allowLessSecureApps' as v
    from setting_items('security_less_secure_apps')
), effective as (
    -- Google's reduction: per unit or group, the policy with the greatest sortOrder that sets the field
    -- (an admin policy over the system default); a unit whose policies leave it unset inherits it
    select org_unit, grp, arg_max(v, sort_order) as v
    from policies
    where v is not null and json_type(v) <> 'NULL'
    group by org_unit, grp
)
select bool_and(not (v->>'$')::bool) as passed,
       'less secure apps allowed in ' || count(*) filter (where not (not (v->>'$')::bool)) || ' of ' || count(*) || ' organizational units / groups' as detail
from effective
