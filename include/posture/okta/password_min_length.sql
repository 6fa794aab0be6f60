-- title: Passwords need at least 15 characters
-- severity: high
-- rationale: Short passwords fall to guessing, spraying and cracking; length is what makes a password strong.
-- remediation: Security > Authenticators > Password > Edit each password policy: set Minimum length to 15 or more.
-- baselines: DISA Okta IDaaS STIG V-273195 (OKTA-APP-000650)
-- settings: password_policies
-- events: policy.lifecycle.update, policy.lifecycle.activate, policy.lifecycle.deactivate
with policies as (
    select item->>'name' as name, (item->'settings'->'password'->'complexity'->>'minLength')::int as value
    from setting_items('password_policies')
    where item->>'status' = 'ACTIVE'  -- an inactive policy applies to no one
)
select case when count(*) = 0 then null else bool_and(coalesce(value, 0) >= 15) end as passed,
       case when count(*) = 0 then 'no active password policy'
            else 'active policies below 15 characters: ' || coalesce(string_agg(case when not (coalesce(value, 0) >= 15) then name || ' (' || coalesce(value::varchar, 'not set') || ')' end, ', ' order by name), 'none') end as detail
from policies
