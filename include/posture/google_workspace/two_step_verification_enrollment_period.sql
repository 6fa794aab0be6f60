-- title: New users must enroll in 2-Step Verification within one day to one week
-- severity: medium
-- rationale: A long or absent enrollment period leaves new accounts protected by a password alone. Evaluated on the root
--   organizational unit's effective value and on every narrower organizational unit or group with its own policy:
--   one that weakens the setting fails the rule.
-- remediation: Admin console > Security > Authentication > 2-Step Verification: New user enrollment period between 1 day and
--   1 week.
-- baselines: CISA SCuBA Google Workspace baseline GWS.COMMONCONTROLS.1.4v1
-- settings: security_two_step_verification_grace_period
-- events: admin.CHANGE_TWO_STEP_VERIFICATION_ENROLLMENT_PERIOD_DURATION
with policies as (
    -- every policy of the setting: where it applies (an organizational unit, or a group) and its order
    select item->'policyQuery'->>'orgUnit' as org_unit,
           coalesce(item->'policyQuery'->>'group', '') as grp,
           (item->'policyQuery'->>'sortOrder')::double as sort_order,
           item->'setting'->'value'->'enrollmentGracePeriod' as v
    from setting_items('security_two_step_verification_grace_period')
), effective as (
    -- Google's reduction: per unit or group, the policy with the greatest sortOrder that sets the field
    -- (an admin policy over the system default); a unit whose policies leave it unset inherits it
    select org_unit, grp, arg_max(v, sort_order) as v
    from policies
    where v is not null and json_type(v) <> 'NULL'
    group by org_unit, grp
)
select bool_and(replace(v->>'$', 's', '')::double between 86400 and 604800) as passed,
       'enrollment periods (s): ' || string_agg(distinct replace(v->>'$', 's', ''), ', ') as detail
from effective
