-- title: User passwords do not expire
-- severity: low
-- rationale: Forced periodic changes make passwords weaker (predictable increments); NIST SP 800-63B and OMB M-22-09
--   advise against rotation. A domain whose expiry is unset expires passwords after Graph's default of 90 days.
-- remediation: Microsoft 365 admin center > Settings > Org settings > Security & privacy > Password expiration
--   policy: Set passwords to never expire (passwordValidityPeriodInDays 2147483647 on every verified domain).
-- baselines: CISA SCuBA MS.AAD.6.1v1
-- settings: domains
-- events: Set password policy, Update domain
with verified as (
    select item->>'id' as domain, coalesce((item->>'passwordValidityPeriodInDays')::bigint, 90) as validity
    from setting_items('domains')
    where (item->>'isVerified')::bool
)
select bool_and(validity = 2147483647) as passed,
       coalesce('passwords expire on: ' || string_agg(domain || ' (' || validity || ' days)', ', ' order by domain)
                    filter (where validity <> 2147483647),
                'no verified domain expires passwords') as detail
from verified
