-- title: Users must enroll Okta Verify or a FIDO2 authenticator
-- severity: medium
-- rationale: Unless a strong authenticator is required at enrollment, users stay on weaker factors and MFA cannot be phishing-resistant for them.
-- remediation: Security > Authenticators > Enrollment: in every active policy set Okta Verify or Security Key or Biometric to Required.
-- baselines: Okta Help: Authenticator enrollment policies, DISA Okta IDaaS STIG V-273190
-- settings: mfa_enroll_policies
-- events: policy.lifecycle.update, policy.lifecycle.activate, policy.lifecycle.deactivate
with policies as (
    select item->>'name' as name, item->'settings'->'authenticators' as authenticators
    from setting_items('mfa_enroll_policies')
    where item->>'status' = 'ACTIVE'
), checked as (
    select name, list_has_any(coalesce(list_filter(from_json(authenticators, '["json"]'), lambda a: a->'enroll'->>'self' in ('REQUIRED')).list_transform(lambda a: a->>'key'), []), ['okta_verify', 'webauthn']) as ok from policies
)
select case when count(*) = 0 then null else bool_and(ok) end as passed,
       case when count(*) = 0 then 'no active authenticator enrollment policy'
            else 'active policies requiring neither Okta Verify nor WebAuthn: ' || coalesce(string_agg(case when not ok then name end, ', ' order by name), 'none') end as detail
from checked
