-- title: 2-Step Verification codes by text message or phone call are not allowed
-- severity: medium
-- rationale: SMS and voice codes fall to SIM swapping and interception. Evaluated on the root organizational unit's
--   effective value and on every narrower organizational unit or group with its own policy: one that weakens the
--   setting fails the rule.
-- remediation: Admin console > Security > Authentication > 2-Step Verification: Methods = Any except verification codes via
--   text, phone call (or Only security key).
-- baselines: CISA SCuBA Google Workspace baseline GWS.COMMONCONTROLS.1.3v1
-- settings: security_two_step_verification_enforcement_factor
-- events: admin.CHANGE_ALLOWED_TWO_STEP_VERIFICATION_METHODS
with policies as (
    -- every policy of the setting: where it applies (an organizational unit, or a group) and its order
    select item->'policyQuery'->>'orgUnit' as org_unit,
           coalesce(item->'policyQuery'->>'group', '') as grp,
           (item->'policyQuery'->>'sortOrder')::double as sort_order,
           item->'setting'->'value'->'allowedSignInFactorSet' as v
    from setting_items('security_two_step_verification_enforcement_factor')
), effective as (
    -- Google's reduction: per unit or group, the policy with the greatest sortOrder that sets the field
    -- (an admin policy over the system default); a unit whose policies leave it unset inherits it
    select org_unit, grp, arg_max(v, sort_order) as v
    from policies
    where v is not null and json_type(v) <> 'NULL'
    group by org_unit, grp
)
select bool_and(v->>'$' <> 'ALL') as passed,
       'methods: ' || string_agg(distinct v->>'$', ', ' order by v->>'$') as detail
from effective
