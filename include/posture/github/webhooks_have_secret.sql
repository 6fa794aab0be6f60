-- title: Active organization webhooks sign their deliveries with a secret
-- severity: medium
-- rationale: Without a webhook secret the receiver cannot tell GitHub's deliveries from forged ones.
-- remediation: Organization settings > Webhooks: set a secret on each listed webhook and verify X-Hub-
--   Signature-256 at the receiver.
-- baselines: GitHub docs: Best practices for using webhooks
-- settings: webhooks
-- events: hook.*
select count(*) filter (where (item->'config'->>'secret') is null) = 0 as passed,
       count(*) filter (where (item->'config'->>'secret') is null) || ' of ' || count(*) || ' active webhooks without a secret'
       || coalesce(': ' || string_agg(item->>'id', ', ' order by item->>'id') filter (where (item->'config'->>'secret') is null), '') as detail
from setting_items('webhooks')
where (item->>'active')::bool
