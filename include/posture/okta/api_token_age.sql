-- title: No API token is older than a year
-- severity: low
-- rationale: Long-lived static credentials outlive the people and integrations that made them; rotating
--   tokens yearly limits how long a leaked one stays useful.
-- remediation: Security > API > Tokens: create a new token for the integration, switch it over and revoke
--   the old one (or move the integration to an OAuth service app).
-- baselines: Okta Help: API token best practices (rotate tokens), NIST SP 800-53 IA-5(1)
-- settings: api_tokens
-- events: system.api_token.create, system.api_token.revoke
with tokens as (
    select item->>'name' as name, (item->>'created')::timestamptz as created
    from setting_items('api_tokens')
)
select case when count(*) filter (where created is null) > 0 then null
            else coalesce(bool_and(created >= now() - interval 365 days), true) end as passed,
       'tokens created over a year ago: ' || coalesce(string_agg(case when created < now() - interval 365 days
            then name || ' (' || strftime(created, '%Y-%m-%d') || ')' end, ', ' order by name), 'none') as detail
from tokens
