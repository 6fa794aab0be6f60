-- title: MFA is required for all users
-- severity: high
-- rationale: A password alone is phished, sprayed or reused; MFA stops most account takeovers. A policy whose controls are combined with OR lets another control (a compliant device) replace MFA.
-- remediation: Conditional Access: All users, All cloud apps, Grant: Require multifactor authentication (or an authentication strength), with no alternative control, state On.
-- baselines: CISA SCuBA MS.AAD.3.2v1
-- settings: conditional_access_policies
-- events: Add conditional access policy, Update conditional access policy, Delete conditional access policy
with policies as (
    select item->>'displayName' as name,
           item->>'state' = 'enabled' as enforced,
           coalesce(list_contains(from_json(item->'conditions'->'users'->'includeUsers', '["varchar"]'), 'All'), false) as all_users,
           coalesce(from_json(item->'conditions'->'users'->'includeRoles', '["varchar"]'), []::varchar[]) as roles,
           coalesce(list_contains(from_json(item->'conditions'->'applications'->'includeApplications', '["varchar"]'), 'All'), false) as all_apps,
           coalesce(from_json(item->'conditions'->'clientAppTypes', '["varchar"]'), []::varchar[]) as client_apps,
           coalesce(from_json(item->'conditions'->'userRiskLevels', '["varchar"]'), []::varchar[]) as user_risk,
           coalesce(from_json(item->'conditions'->'signInRiskLevels', '["varchar"]'), []::varchar[]) as sign_in_risk,
           item->'grantControls'->>'operator' as operator,
           coalesce(from_json(item->'grantControls'->'builtInControls', '["varchar"]'), []::varchar[]) as controls,
           item->'grantControls'->'authenticationStrength'->>'id' as strength
    from setting_items('conditional_access_policies')
)
select coalesce(bool_or(enforced and all_users and all_apps and (list_contains(controls, 'mfa') or strength is not null) and (operator = 'AND' or len(controls) + (strength is not null)::int = 1)), false) as passed,
       coalesce('enforced by: ' || string_agg(name, ', ' order by name) filter (where enforced and all_users and all_apps and (list_contains(controls, 'mfa') or strength is not null) and (operator = 'AND' or len(controls) + (strength is not null)::int = 1)),
                'no enabled policy requires MFA for all users and apps without an alternative') as detail
from policies
