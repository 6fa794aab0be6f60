-- title: The last 5 passwords cannot be reused
-- severity: medium
-- rationale: Without a history users rotate back to a password that may already be known.
-- remediation: Security > Authenticators > Password > Edit each password policy: set Enforce password history for last 5 passwords or more.
-- baselines: DISA Okta IDaaS STIG V-273209 (OKTA-APP-003010)
-- settings: password_policies
-- events: policy.lifecycle.update, policy.lifecycle.activate, policy.lifecycle.deactivate
with policies as (
    select item->>'name' as name, (item->'settings'->'password'->'age'->>'historyCount')::int as value
    from setting_items('password_policies')
    where item->>'status' = 'ACTIVE'  -- an inactive policy applies to no one
)
select case when count(*) = 0 then null else bool_and(coalesce(value, 0) >= 5) end as passed,
       case when count(*) = 0 then 'no active password policy'
            else 'active policies remembering fewer than 5 passwords: ' || coalesce(string_agg(case when not (coalesce(value, 0) >= 5) then name || ' (' || coalesce(value::varchar, 'not set') || ')' end, ', ' order by name), 'none') end as detail
from policies
