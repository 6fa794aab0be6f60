-- title: Sign-ins detected as high risk are blocked
-- severity: high
-- rationale: A sign-in Identity Protection rates high risk is probably not the account's owner.
-- remediation: Conditional Access: All users, All cloud apps, Conditions > Sign-in risk: High, Grant: Block access, state On (Entra ID P2).
-- baselines: CISA SCuBA MS.AAD.2.3v1
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
select coalesce(bool_or(enforced and all_users and all_apps and list_contains(sign_in_risk, 'high') and list_contains(controls, 'block')), false) as passed,
       coalesce('enforced by: ' || string_agg(name, ', ' order by name) filter (where enforced and all_users and all_apps and list_contains(sign_in_risk, 'high') and list_contains(controls, 'block')),
                'no enabled policy blocks high-risk sign-ins for all users and apps') as detail
from policies
