-- title: SMS, voice and security question authenticators are off
-- severity: medium
-- rationale: Codes sent by SMS or voice can be intercepted or SIM-swapped, and security question answers
--   are often public; NIST SP 800-63B restricts the former and forbids the latter as authenticators.
-- remediation: Security > Authenticators: deactivate Phone and Security Question (first remove them from
--   the enrollment and authentication policies that use them).
-- baselines: NIST SP 800-63B 5.1.3.3, NIST SP 800-63B 5.1.1.2
-- settings: authenticators
-- events: security.authenticator.lifecycle.activate, security.authenticator.lifecycle.deactivate
with authenticators as (select item from setting_items('authenticators'))
select case when count(*) = 0 then null
            else not bool_or(item->>'status' = 'ACTIVE' and item->>'key' in ('phone_number', 'security_question')) end as passed,
       'active weak authenticators: ' || coalesce(string_agg(case when item->>'status' = 'ACTIVE'
            and item->>'key' in ('phone_number', 'security_question') then item->>'key' end, ', ' order by item->>'key'), 'none') as detail
from authenticators
