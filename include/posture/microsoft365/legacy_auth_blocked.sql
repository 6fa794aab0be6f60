-- title: Legacy authentication is blocked
-- severity: high
-- rationale: Legacy authentication protocols (Exchange ActiveSync, IMAP, POP, SMTP AUTH and other older clients)
--   cannot do MFA, so stolen or sprayed passwords work on them.
-- remediation: Entra admin center > Conditional Access: a policy for All users and All cloud apps, Client apps:
--   Exchange ActiveSync clients and Other clients, Grant: Block access, state On (report-only does not block).
-- baselines: CISA SCuBA MS.AAD.1.1v1
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
), blocks as (
    select name, client_apps from policies
    where enforced and all_users and all_apps and list_contains(controls, 'block')
)
select coalesce(bool_or(list_contains(client_apps, 'exchangeActiveSync')), false)
       and coalesce(bool_or(list_contains(client_apps, 'other')), false) as passed,
       coalesce('blocking legacy clients: ' || string_agg(name, ', ' order by name)
                    filter (where list_contains(client_apps, 'exchangeActiveSync') or list_contains(client_apps, 'other')),
                'no enabled policy blocks Exchange ActiveSync and other legacy clients for all users and apps') as detail
from blocks
