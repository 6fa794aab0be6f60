-- title: Actions must be pinned to a full commit SHA
-- severity: low
-- rationale: A tag can be moved to malicious code after review; only a full-length commit SHA names immutable
--   code.
-- remediation: Organization settings > Actions > General > Policies: select 'Require actions to be pinned to
--   a full-length commit SHA'.
-- baselines: GitHub docs: Security hardening for GitHub Actions
-- settings: actions_permissions
-- events: org.update_actions_settings
select (setting('actions_permissions')->>'sha_pinning_required')::bool as passed,
       'sha_pinning_required: ' || coalesce(setting('actions_permissions')->>'sha_pinning_required', 'not given (the organization''s policy does not carry it)') as detail
