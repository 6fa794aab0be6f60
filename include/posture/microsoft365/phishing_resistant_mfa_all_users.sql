-- title: Phishing-resistant MFA is required for all users
-- severity: high
-- rationale: Push, SMS and OTP factors can be phished or relayed; FIDO2, Windows Hello for Business and certificate-based authentication cannot.
-- remediation: Conditional Access: All users, All cloud apps, Grant: Require authentication strength Phishing-resistant MFA, state On.
-- baselines: CISA SCuBA MS.AAD.3.1v1
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
select coalesce(bool_or(enforced and all_users and all_apps and strength = '00000000-0000-0000-0000-000000000004' and (operator = 'AND' or len(controls) = 0)), false) as passed,
       coalesce('enforced by: ' || string_agg(name, ', ' order by name) filter (where enforced and all_users and all_apps and strength = '00000000-0000-0000-0000-000000000004' and (operator = 'AND' or len(controls) = 0)),
                'no enabled policy requires the Phishing-resistant MFA strength for all users and apps') as detail
from policies
