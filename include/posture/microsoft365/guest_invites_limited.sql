-- title: Only admins and Guest Inviters can invite guests
-- severity: medium
-- rationale: When anyone can invite, guest accounts are created without an approval process.
-- remediation: Entra admin center > External Identities > External collaboration settings > Guest invite settings:
--   Only users assigned to specific admin roles can invite guest users.
-- baselines: CISA SCuBA MS.AAD.8.2v1
-- settings: authorization_policy
-- events: Update authorization policy
select setting('authorization_policy')->>'allowInvitesFrom' in ('adminsAndGuestInviters', 'none') as passed,
       'allowInvitesFrom: ' || coalesce(setting('authorization_policy')->>'allowInvitesFrom', 'not returned') as detail
