-- title: Only administrators can register applications
-- severity: medium
-- rationale: An app a user registers is not protected by MFA policies and can be used to phish consent or keep
--   access; only specific privileged users should create them.
-- remediation: Entra admin center > Users > User settings: Users can register applications: No.
-- baselines: CISA SCuBA MS.AAD.5.1v1
-- settings: authorization_policy
-- events: Update authorization policy
select not (setting('authorization_policy')->'defaultUserRolePermissions'->>'allowedToCreateApps')::bool as passed,
       'allowedToCreateApps: ' || coalesce(setting('authorization_policy')->'defaultUserRolePermissions'->>'allowedToCreateApps', 'not returned') as detail
