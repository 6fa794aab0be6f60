-- title: Users cannot enroll SMS/voice or security questions
-- severity: low
-- rationale: An enrollment policy that offers phone or security question lets users pick the weakest factor.
-- remediation: Security > Authenticators > Enrollment: in every active policy set Phone and Security Question to Disabled.
-- baselines: NIST SP 800-63B 5.1.3.3, NIST SP 800-63B 5.1.1.2
-- settings: mfa_enroll_policies
-- events: policy.lifecycle.update, policy.lifecycle.activate, policy.lifecycle.deactivate
with policies as (
    select item->>'name' as name, item->'settings'->'authenticators' as authenticators
    from setting_items('mfa_enroll_policies')
    where item->>'status' = 'ACTIVE'
), checked as (
    select name, not list_has_any(coalesce(list_filter(from_json(authenticators, '["json"]'), lambda a: a->'enroll'->>'self' in ('REQUIRED', 'OPTIONAL')).list_transform(lambda a: a->>'key'), []), ['phone_number', 'security_question']) as ok from policies
)
select case when count(*) = 0 then null else bool_and(ok) end as passed,
       case when count(*) = 0 then 'no active authenticator enrollment policy'
            else 'active policies letting users enroll phone or security question: ' || coalesce(string_agg(case when not ok then name end, ', ' order by name), 'none') end as detail
from checked
