-- title: The Okta Dashboard requires two factors
-- severity: high
-- rationale: The Dashboard opens every app assigned to the user; a phished password alone must not be enough.
-- remediation: Security > Authentication Policies > Okta Dashboard: in every active rule that allows access set User must authenticate with to Password/IdP + Another factor or Any 2 factor types.
-- baselines: DISA Okta IDaaS STIG V-273194 (OKTA-APP-000570)
-- settings: access_policies
-- events: policy.rule.update, policy.rule.activate, policy.rule.deactivate, policy.lifecycle.update, policy.lifecycle.activate, policy.lifecycle.deactivate
with policy as (
    select item from setting_items('access_policies')
    where item->>'name' = 'Okta Dashboard' and item->>'status' = 'ACTIVE'
), rules as (
    select unnest(from_json(item->'rules', '["json"]')) as rule from policy
), allowing as (
    -- active rules that let someone in (a DENY rule, like a hardened catch-all, lets no one in)
    select rule->>'name' as name, rule->'actions'->'appSignOn'->'verificationMethod' as method
    from rules
    where rule->>'status' = 'ACTIVE' and rule->'actions'->'appSignOn'->>'access' = 'ALLOW'
)
select case when (select count(*) from policy) = 0 then null
            else coalesce(bool_and(coalesce(method->>'factorMode', '') = '2FA'), true) end as passed,
       case when (select count(*) from policy) = 0 then 'no active authentication policy named Okta Dashboard'
            else 'rules allowing one factor: ' || coalesce(string_agg(case when not (coalesce(method->>'factorMode', '') = '2FA') then name end, ', ' order by name), 'none') end as detail
from allowing
