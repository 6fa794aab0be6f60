-- title: Phishing-resistant MFA is required for highly privileged roles
-- severity: high
-- rationale: Administrators are the most valuable accounts to phish; this holds even if the all-users MFA policy is changed.
-- remediation: Conditional Access: Users > Directory roles: Global, Privileged Role, User, SharePoint, Exchange, Hybrid Identity, Application and Cloud Application Administrator (or All users), All cloud apps, Grant: authentication strength Phishing-resistant MFA, state On.
-- baselines: CISA SCuBA MS.AAD.3.6v1
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
select coalesce(bool_or(enforced and all_apps and (all_users or list_has_all(roles, ['62e90394-69f5-4237-9190-012177145e10', 'e8611ab8-c189-46e8-94e1-60213ab1f814', 'fe930be7-5e62-47db-91af-98c3a49a38b1', 'f28a1f50-f6e7-4571-818b-6a12f2af6b6c', '29232cdf-9323-42fd-ade2-1d097af3e4de', '8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2', '9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3', '158c047a-c907-4556-b7ef-446551a6b5f7'])) and strength = '00000000-0000-0000-0000-000000000004' and (operator = 'AND' or len(controls) = 0)), false) as passed,
       coalesce('enforced by: ' || string_agg(name, ', ' order by name) filter (where enforced and all_apps and (all_users or list_has_all(roles, ['62e90394-69f5-4237-9190-012177145e10', 'e8611ab8-c189-46e8-94e1-60213ab1f814', 'fe930be7-5e62-47db-91af-98c3a49a38b1', 'f28a1f50-f6e7-4571-818b-6a12f2af6b6c', '29232cdf-9323-42fd-ade2-1d097af3e4de', '8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2', '9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3', '158c047a-c907-4556-b7ef-446551a6b5f7'])) and strength = '00000000-0000-0000-0000-000000000004' and (operator = 'AND' or len(controls) = 0)),
                'no enabled policy requires the Phishing-resistant MFA strength for every highly privileged role') as detail
from policies
