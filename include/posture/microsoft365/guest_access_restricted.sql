-- title: Guests have limited or restricted access to directory objects
-- severity: medium
-- rationale: A guest with member-level access can enumerate users, groups and their memberships: reconnaissance for
--   whoever holds a compromised or malicious guest account.
-- remediation: Entra admin center > External Identities > External collaboration settings > Guest user access:
--   limited access, or restricted to their own directory objects.
-- baselines: CISA SCuBA MS.AAD.8.1v1
-- settings: authorization_policy
-- events: Update authorization policy
select setting('authorization_policy')->>'guestUserRoleId' in
           ('10dae51f-b6af-4016-8d66-8c2a99b929b3', '2af84b1e-32c8-42b7-82bc-daa82404023b') as passed,
       'guestUserRoleId: ' || coalesce(case setting('authorization_policy')->>'guestUserRoleId'
           when 'a0b1b346-4d3e-4e8b-98f8-753987be4970' then 'same access as members'
           when '10dae51f-b6af-4016-8d66-8c2a99b929b3' then 'limited access'
           when '2af84b1e-32c8-42b7-82bc-daa82404023b' then 'restricted access'
           else setting('authorization_policy')->>'guestUserRoleId' end, 'not returned') as detail
