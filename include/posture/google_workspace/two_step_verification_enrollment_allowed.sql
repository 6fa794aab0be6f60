-- title: Users may turn on 2-Step Verification
-- severity: high
-- rationale: Users who cannot enroll in 2SV cannot be protected by it, and enforcement cannot apply to them. Evaluated on
--   the root organizational unit's effective value and on every narrower organizational unit or group with its own
--   policy: one that weakens the setting fails the rule.
-- remediation: Admin console > Security > Authentication > 2-Step Verification: check Allow users to turn on 2-Step
--   Verification.
-- baselines: CISA SCuBA Google Workspace baseline GWS.COMMONCONTROLS.1.1v1, CISA SCuBA Google Workspace baseline
--   GWS.COMMONCONTROLS.1.2v1
-- settings: security_two_step_verification_enrollment
-- events: admin.ENFORCE_STRONG_AUTHENTICATION, admin.CHANGE_APPLICATION_SETTING
with policies as (
    -- every policy of the setting: where it applies (an organizational unit, or a group) and its order
    select item->'policyQuery'->>'orgUnit' as org_unit,
           coalesce(item->'policyQuery'->>'group', '') as grp,
           (item->'policyQuery'->>'sortOrder')::double as sort_order,
           item->'setting'->'value'->'allowEnrollment' as v
    from setting_items('security_two_step_verification_enrollment')
), effective as (
    -- Google's reduction: per unit or group, the policy with the greatest sortOrder that sets the field
    -- (an admin policy over the system default); a unit whose policies leave it unset inherits it
    select org_unit, grp, arg_max(v, sort_order) as v
    from policies
    where v is not null and json_type(v) <> 'NULL'
    group by org_unit, grp
)
select bool_and((v->>'$')::bool) as passed,
       'enrollment not allowed in ' || count(*) filter (where not ((v->>'$')::bool)) || ' of ' || count(*) || ' organizational units / groups' as detail
from effective
