-- title: Active organization webhooks verify the receiver's TLS certificate
-- severity: high
-- rationale: With SSL verification off (insecure_ssl 1), anyone able to intercept the connection can
--   impersonate the receiver.
-- remediation: Organization settings > Webhooks: enable SSL verification on each listed webhook.
-- baselines: GitHub docs: Best practices for using webhooks
-- settings: webhooks
-- events: hook.*
select count(*) filter (where item->'config'->>'insecure_ssl' = '1') = 0 as passed,
       count(*) filter (where item->'config'->>'insecure_ssl' = '1') || ' of ' || count(*) || ' active webhooks skip certificate checks'
       || coalesce(': ' || string_agg(item->>'id', ', ' order by item->>'id') filter (where item->'config'->>'insecure_ssl' = '1'), '') as detail
from setting_items('webhooks')
where (item->>'active')::bool
