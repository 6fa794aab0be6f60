-- title: Passwords must contain an upper-case letter
-- severity: low
-- rationale: Each required character class multiplies the combinations a guessing attack must try.
-- remediation: Security > Authenticators > Password > Edit each password policy: check the upper-case letter requirement (Okta's minUpperCase at least 1).
-- baselines: DISA Okta IDaaS STIG V-273196 (OKTA-APP-000670)
-- settings: password_policies
-- events: policy.lifecycle.update, policy.lifecycle.activate, policy.lifecycle.deactivate
with policies as (
    select item->>'name' as name, (item->'settings'->'password'->'complexity'->>'minUpperCase')::int as value
    from setting_items('password_policies')
    where item->>'status' = 'ACTIVE'  -- an inactive policy applies to no one
)
select case when count(*) = 0 then null else bool_and(coalesce(value, 0) >= 1) end as passed,
       case when count(*) = 0 then 'no active password policy'
            else 'active policies not requiring a upper-case letter: ' || coalesce(string_agg(case when not (coalesce(value, 0) >= 1) then name || ' (' || coalesce(value::varchar, 'not set') || ')' end, ', ' order by name), 'none') end as detail
from policies
