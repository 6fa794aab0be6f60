-- title: API tokens expire after at most 30 days without use
-- severity: medium
-- rationale: An API token acts with its admin's full rights; a long inactivity window keeps a forgotten
--   token usable for months. Okta's default window is 30 days.
-- remediation: Security > API > Tokens: replace tokens whose expiry window is longer than 30 days (the
--   window is set when a token is created), or move the integration to an OAuth service app with scopes.
-- baselines: Okta Developer: API token management (tokens expire after 30 days without use by default), Okta Help: API token best practices
-- settings: api_tokens
-- events: system.api_token.create, system.api_token.revoke
with tokens as (
    select item->>'name' as name, item->>'tokenWindow' as token_window,
           case when item->>'tokenWindow' similar to 'P[0-9]+D' then regexp_extract(item->>'tokenWindow', '([0-9]+)', 1)::int * 1440
                 when item->>'tokenWindow' similar to 'PT[0-9]+H' then regexp_extract(item->>'tokenWindow', '([0-9]+)', 1)::int * 60
                 when item->>'tokenWindow' similar to 'PT[0-9]+M' then regexp_extract(item->>'tokenWindow', '([0-9]+)', 1)::int
            end as minutes
    from setting_items('api_tokens')
)
-- no token at all: nothing long-lived (pass); a window in a form not understood: not evaluated
select case when count(*) filter (where minutes is null) > 0 then null
            else coalesce(bool_and(minutes <= 30 * 1440), true) end as passed,
       'tokens with a longer window: ' || coalesce(string_agg(case when minutes > 30 * 1440 or minutes is null
            then name || ' (' || coalesce(token_window, 'not set') || ')' end, ', ' order by name), 'none') as detail
from tokens
