-- title: Okta sessions last at most 18 hours
-- severity: medium
-- rationale: A session without a lifetime limit never asks the user to prove who they are again, and a stolen session cookie stays valid.
-- remediation: Security > Global Session Policy: in every active rule that allows access set Maximum Okta global session lifetime to 18 hours or less.
-- baselines: DISA Okta IDaaS STIG V-273203 (OKTA-APP-001665)
-- settings: sign_on_policies
-- events: policy.rule.update, policy.rule.activate, policy.rule.deactivate, policy.lifecycle.update, policy.lifecycle.activate, policy.lifecycle.deactivate
with rules as (
    select item->>'name' as policy, unnest(from_json(item->'rules', '["json"]')) as rule
    from setting_items('sign_on_policies')
    where item->>'status' = 'ACTIVE'
), allowing as (
    -- only active rules that let a user in set a session (a DENY rule has none)
    select policy || ' / ' || (rule->>'name') as name, (rule->'actions'->'signon'->'session'->>'maxSessionLifetimeMinutes')::int as value
    from rules
    where rule->>'status' = 'ACTIVE' and rule->'actions'->'signon'->>'access' = 'ALLOW'
)
select case when count(*) = 0 then null else bool_and(coalesce(value, 0) between 1 and 1080) end as passed,
       case when count(*) = 0 then 'no active sign-on rule allows access'
            else 'rules with no limit (0) or more than 18 hours: ' || coalesce(string_agg(case when not (coalesce(value, 0) between 1 and 1080) then name || ' (' || coalesce(value::varchar, 'not set') || ')' end, ', ' order by name), 'none') end as detail
from allowing
