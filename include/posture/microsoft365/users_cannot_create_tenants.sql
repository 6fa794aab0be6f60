-- title: Users cannot create tenants
-- severity: low
-- rationale: A tenant a user creates is outside the organisation's policies and monitoring, while its creator is
--   its Global Administrator.
-- remediation: Entra admin center > Users > User settings: Restrict non-admin users from creating tenants: Yes.
-- baselines: Microsoft Learn: Default user permissions in Microsoft Entra ID (Restrict member users' default permissions)
-- settings: authorization_policy
-- events: Update authorization policy
select not (setting('authorization_policy')->'defaultUserRolePermissions'->>'allowedToCreateTenants')::bool as passed,
       'allowedToCreateTenants: ' || coalesce(setting('authorization_policy')->'defaultUserRolePermissions'->>'allowedToCreateTenants', 'not returned') as detail
