-- title: Passwords cannot be changed again within 24 hours
-- severity: low
-- rationale: Without a minimum age a user can cycle through passwords at once and reuse the old one, defeating the history.
-- remediation: Security > Authenticators > Password > Edit each password policy: set Minimum password age to 24 hours (minAgeMinutes 1440) or more.
-- baselines: DISA Okta IDaaS STIG V-273200 (OKTA-APP-000740)
-- settings: password_policies
-- events: policy.lifecycle.update, policy.lifecycle.activate, policy.lifecycle.deactivate
with policies as (
    select item->>'name' as name, (item->'settings'->'password'->'age'->>'minAgeMinutes')::int as value
    from setting_items('password_policies')
    where item->>'status' = 'ACTIVE'  -- an inactive policy applies to no one
)
select case when count(*) = 0 then null else bool_and(coalesce(value, 0) >= 1440) end as passed,
       case when count(*) = 0 then 'no active password policy'
            else 'active policies with a minimum age under 24 hours: ' || coalesce(string_agg(case when not (coalesce(value, 0) >= 1440) then name || ' (' || coalesce(value::varchar, 'not set') || ')' end, ', ' order by name), 'none') end as detail
from policies
