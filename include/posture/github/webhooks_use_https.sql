-- title: Active organization webhooks deliver over HTTPS
-- severity: high
-- rationale: Organization webhooks carry events about every repository; over plain HTTP anyone on the path
--   reads and can forge them.
-- remediation: Organization settings > Webhooks: change each listed webhook's payload URL to https://, or
--   delete it.
-- baselines: GitHub docs: Best practices for using webhooks
-- settings: webhooks
-- events: hook.*
select count(*) filter (where not starts_with(lower(item->'config'->>'url'), 'https://')) = 0 as passed,
       count(*) filter (where not starts_with(lower(item->'config'->>'url'), 'https://')) || ' of ' || count(*) || ' active webhooks without HTTPS'
       || coalesce(': ' || string_agg(item->>'id', ', ' order by item->>'id') filter (where not starts_with(lower(item->'config'->>'url'), 'https://')), '') as detail
from setting_items('webhooks')
where (item->>'active')::bool
