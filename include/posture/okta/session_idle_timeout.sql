-- title: Okta sessions end after at most 15 idle minutes
-- severity: medium
-- rationale: An unattended signed-in browser is an open door; a short idle limit closes it.
-- remediation: Security > Global Session Policy: in every active rule that allows access set Maximum Okta global session idle time to 15 minutes.
-- baselines: DISA Okta IDaaS STIG V-273186 (OKTA-APP-000020)
-- settings: sign_on_policies
-- events: policy.rule.update, policy.rule.activate, policy.rule.deactivate, policy.lifecycle.update, policy.lifecycle.activate, policy.lifecycle.deactivate
with rules as (
    select item->>'name' as policy, unnest(from_json(item->'rules', '["json"]')) as rule
    from setting_items('sign_on_policies')
    where item->>'status' = 'ACTIVE'
), allowing as (
    -- only active rules that let a user in set a session (a DENY rule has none)
    select policy || ' / ' || (rule->>'name') as name, (rule->'actions'->'signon'->'session'->>'maxSessionIdleMinutes')::int as value
    from rules
    where rule->>'status' = 'ACTIVE' and rule->'actions'->'signon'->>'access' = 'ALLOW'
)
select case when count(*) = 0 then null else bool_and(coalesce(value, 0) between 1 and 15) end as passed,
       case when count(*) = 0 then 'no active sign-on rule allows access'
            else 'rules allowing more than 15 idle minutes: ' || coalesce(string_agg(case when not (coalesce(value, 0) between 1 and 15) then name || ' (' || coalesce(value::varchar, 'not set') || ')' end, ', ' order by name), 'none') end as detail
from allowing
