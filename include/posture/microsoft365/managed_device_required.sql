-- title: A managed device is required to sign in
-- severity: medium
-- rationale: Credentials used from an attacker's own device are refused when sign-in needs a compliant or hybrid joined device.
-- remediation: Conditional Access: All users, All cloud apps, Grant: Require device to be marked as compliant or Require Microsoft Entra hybrid joined device, state On (Intune).
-- baselines: CISA SCuBA MS.AAD.3.7v1
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
select coalesce(bool_or(enforced and all_users and all_apps and (list_contains(controls, 'compliantDevice') or list_contains(controls, 'domainJoinedDevice'))), false) as passed,
       coalesce('enforced by: ' || string_agg(name, ', ' order by name) filter (where enforced and all_users and all_apps and (list_contains(controls, 'compliantDevice') or list_contains(controls, 'domainJoinedDevice'))),
                'no enabled policy requires a managed device for all users and apps') as detail
from policies
