-- title: Users may not mark a device as trusted to skip 2-Step Verification
-- severity: medium
-- rationale: A trusted device skips the second factor on every later sign-in, so a stolen session or laptop needs only the
--   password. Evaluated on the root organizational unit's effective value and on every narrower organizational
--   unit or group with its own policy: one that weakens the setting fails the rule.
-- remediation: Admin console > Security > Authentication > 2-Step Verification: uncheck Allow user to trust the device.
-- baselines: CISA SCuBA Google Workspace baseline GWS.COMMONCONTROLS.1.5v1
-- settings: security_two_step_verification_device_trust
-- events: admin.CHANGE_TWO_STEP_VERIFICATION_FREQUENCY
with policies as (
    -- every policy of the setting: where it applies (an organizational unit, or a group) and its order
    select item->'policyQuery'->>'orgUnit' as org_unit,
           coalesce(item->'policyQuery'->>'group', '') as grp,
           (item->'policyQuery'->>'sortOrder')::double as sort_order,
           item->'setting'->'value'->'allowTrustingDevice' as v
    from setting_items('security_two_step_verification_device_trust')
), effective as (
    -- Google's reduction: per unit or group, the policy with the greatest sortOrder that sets the field
    -- (an admin policy over the system default); a unit whose policies leave it unset inherits it
    select org_unit, grp, arg_max(v, sort_order) as v
    from policies
    where v is not null and json_type(v) <> 'NULL'
    group by org_unit, grp
)
select bool_and(not (v->>'$')::bool) as passed,
       'trusting devices allowed in ' || count(*) filter (where not (not (v->>'$')::bool)) || ' of ' || count(*) || ' organizational units / groups' as detail
from effective
