-- title: SMS, voice call and email one-time passcodes are disabled
-- severity: medium
-- rationale: SMS, voice and email OTP are the weakest authenticators (SIM swap, interception, phishing relay).
-- remediation: Entra admin center > Authentication methods > Policies: SMS, Voice call and Email OTP: Enable: No.
-- baselines: CISA SCuBA MS.AAD.3.5v1
-- settings: authentication_methods_policy
-- events: Authentication Methods Policy Update, Authentication Methods Policy Reset
with methods as (
    select item->>'id' as id, item->>'state' as state
    from (select unnest(from_json(setting('authentication_methods_policy')->'authenticationMethodConfigurations', '["json"]')) as item)
    where item->>'id' in ('Sms', 'Voice', 'Email')
)
select case when count(*) = 3 then bool_and(state = 'disabled') end as passed,
       coalesce('enabled: ' || string_agg(id, ', ' order by id) filter (where state <> 'disabled'),
                case when count(*) = 3 then 'SMS, voice and email OTP disabled'
                     else 'the policy does not list every one of Sms, Voice and Email' end) as detail
from methods
