-- title: A phishing-resistant authenticator (Okta Verify or FIDO2) is active
-- severity: high
-- rationale: Phishing-resistant authentication can only be required when Okta Verify (FastPass) or
--   security keys / biometrics (WebAuthn) are available to enroll.
-- remediation: Security > Authenticators: add and activate Okta Verify and/or Security Key or Biometric.
-- baselines: DISA Okta IDaaS STIG V-273190, DISA Okta IDaaS STIG V-273191
-- settings: authenticators
-- events: security.authenticator.lifecycle.activate, security.authenticator.lifecycle.deactivate
with authenticators as (select item from setting_items('authenticators'))
select case when count(*) = 0 then null
            else coalesce(bool_or(item->>'status' = 'ACTIVE' and item->>'key' in ('okta_verify', 'webauthn')), false) end as passed,
       'active: ' || coalesce(string_agg(case when item->>'status' = 'ACTIVE' then item->>'key' end, ', ' order by item->>'key'), 'none') as detail
from authenticators
