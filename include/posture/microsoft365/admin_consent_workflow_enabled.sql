-- title: An admin consent workflow is configured
-- severity: medium
-- rationale: With user consent off, users need a way to ask for an app; the workflow routes requests to reviewers
--   who assess the permissions instead of users finding workarounds.
-- remediation: Entra admin center > Enterprise applications > Consent and permissions > Admin consent settings:
--   Users can request admin consent: Yes, with at least one reviewer.
-- baselines: CISA SCuBA MS.AAD.5.3v1
-- settings: admin_consent_request_policy
-- events: Update policy
select (setting('admin_consent_request_policy')->>'isEnabled')::bool
           and coalesce(json_array_length(setting('admin_consent_request_policy')->'reviewers'), 0) > 0 as passed,
       'isEnabled: ' || coalesce(setting('admin_consent_request_policy')->>'isEnabled', 'not returned') || ', reviewers: '
           || coalesce(json_array_length(setting('admin_consent_request_policy')->'reviewers'), 0) as detail
