-- title: Accounts lock after at most 3 failed sign-in attempts
-- severity: high
-- rationale: Locking the account after a few failures stops online password guessing.
-- remediation: Security > Authenticators > Password > Edit each password policy: check Lock out after and set it to 3 unsuccessful attempts.
-- baselines: DISA Okta IDaaS STIG V-273189 (OKTA-APP-000170)
-- settings: password_policies
-- events: policy.lifecycle.update, policy.lifecycle.activate, policy.lifecycle.deactivate
with policies as (
    select item->>'name' as name, (item->'settings'->'password'->'lockout'->>'maxAttempts')::int as value
    from setting_items('password_policies')
    where item->>'status' = 'ACTIVE'  -- an inactive policy applies to no one
)
select case when count(*) = 0 then null else bool_and(coalesce(value, 0) between 1 and 3) end as passed,
       case when count(*) = 0 then 'no active password policy'
            else 'active policies without lockout (0) or allowing more than 3 attempts: ' || coalesce(string_agg(case when not (coalesce(value, 0) between 1 and 3) then name || ' (' || coalesce(value::varchar, 'not set') || ')' end, ', ' order by name), 'none') end as detail
from policies
