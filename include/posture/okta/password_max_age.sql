-- title: Passwords expire after at most 60 days
-- severity: medium
-- rationale: A password that never expires stays useful to whoever learned it.
-- remediation: Security > Authenticators > Password > Edit each password policy: set Password expires after to 60 days or fewer (maxAgeDays 0 means never).
-- baselines: DISA Okta IDaaS STIG V-273201 (OKTA-APP-000745)
-- settings: password_policies
-- events: policy.lifecycle.update, policy.lifecycle.activate, policy.lifecycle.deactivate
with policies as (
    select item->>'name' as name, (item->'settings'->'password'->'age'->>'maxAgeDays')::int as value
    from setting_items('password_policies')
    where item->>'status' = 'ACTIVE'  -- an inactive policy applies to no one
)
select case when count(*) = 0 then null else bool_and(coalesce(value, 0) between 1 and 60) end as passed,
       case when count(*) = 0 then 'no active password policy'
            else 'active policies whose passwords never expire (0) or live longer than 60 days: ' || coalesce(string_agg(case when not (coalesce(value, 0) between 1 and 60) then name || ' (' || coalesce(value::varchar, 'not set') || ')' end, ', ' order by name), 'none') end as detail
from policies
