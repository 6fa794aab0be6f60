-- title: Okta session cookies do not persist across browser restarts
-- severity: low
-- rationale: A persistent session cookie survives closing the browser, so the next person at a shared machine is signed in.
-- remediation: Security > Global Session Policy: in every active rule turn off Okta global session cookies persist across browser sessions.
-- baselines: Okta Help: Global session policies (session cookie persistence)
-- settings: sign_on_policies
-- events: policy.rule.update, policy.rule.activate, policy.rule.deactivate, policy.lifecycle.update, policy.lifecycle.activate, policy.lifecycle.deactivate
with rules as (
    select item->>'name' as policy, unnest(from_json(item->'rules', '["json"]')) as rule
    from setting_items('sign_on_policies')
    where item->>'status' = 'ACTIVE'
), allowing as (
    -- only active rules that let a user in set a session (a DENY rule has none)
    select policy || ' / ' || (rule->>'name') as name, (rule->'actions'->'signon'->'session'->>'usePersistentCookie')::boolean as value
    from rules
    where rule->>'status' = 'ACTIVE' and rule->'actions'->'signon'->>'access' = 'ALLOW'
)
select case when count(*) = 0 then null else bool_and(not coalesce(value, false)) end as passed,
       case when count(*) = 0 then 'no active sign-on rule allows access'
            else 'rules keeping sessions across browser restarts: ' || coalesce(string_agg(case when not (not coalesce(value, false)) then name || ' (' || coalesce(value::varchar, 'not set') || ')' end, ', ' order by name), 'none') end as detail
from allowing
