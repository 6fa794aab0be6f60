-- title: 2-Step Verification is enforced for every organizational unit and group
-- severity: high
-- rationale: A password alone is phished, sprayed or reused; enforced 2SV stops most account takeovers. Evaluated on the
--   root organizational unit's effective value and on every narrower organizational unit or group with its own
--   policy: one that weakens the setting fails the rule. Enforcement scheduled for a later date is not in force.
-- remediation: Admin console > Security > Authentication > 2-Step Verification: Enforcement On (from now) for the root and
--   every organizational unit and group.
-- baselines: CISA SCuBA Google Workspace baseline GWS.COMMONCONTROLS.1.2v1
-- settings: security_two_step_verification_enforcement
-- events: admin.ENFORCE_STRONG_AUTHENTICATION
with policies as (
    -- every policy of the setting: where it applies (an organizational unit, or a group) and its order
    select item->'policyQuery'->>'orgUnit' as org_unit,
           coalesce(item->'policyQuery'->>'group', '') as grp,
           (item->'policyQuery'->>'sortOrder')::double as sort_order,
           item->'setting'->'value'->'enforcedFrom' as v
    from setting_items('security_two_step_verification_enforcement')
), effective as (
    -- Google's reduction: per unit or group, the policy with the greatest sortOrder that sets the field
    -- (an admin policy over the system default); a unit whose policies leave it unset inherits it
    select org_unit, grp, arg_max(v, sort_order) as v
    from policies
    where v is not null and json_type(v) <> 'NULL'
    group by org_unit, grp
)
select bool_and((v->>'$')::timestamptz > timestamptz '1970-01-01 00:00:00+00' and (v->>'$')::timestamptz <= now()) as passed,
       'not enforced in ' || count(*) filter (where not ((v->>'$')::timestamptz > timestamptz '1970-01-01 00:00:00+00' and (v->>'$')::timestamptz <= now())) || ' of ' || count(*) || ' organizational units / groups' as detail
from effective
