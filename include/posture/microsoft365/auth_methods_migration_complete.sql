-- title: Authentication methods are managed in the authentication methods policy alone
-- severity: low
-- rationale: Until the migration is complete, the legacy MFA and SSPR policies still allow methods the
--   authentication methods policy has turned off, so weak methods can stay usable unnoticed.
-- remediation: Entra admin center > Authentication methods > Policies > Manage migration: Migration Complete.
-- baselines: CISA SCuBA MS.AAD.3.4v1
-- settings: authentication_methods_policy
-- events: Authentication Methods Policy Update, Authentication Methods Policy Reset
select setting('authentication_methods_policy')->>'policyMigrationState' = 'migrationComplete' as passed,
       'policyMigrationState: ' || coalesce(setting('authentication_methods_policy')->>'policyMigrationState', 'not returned') as detail
