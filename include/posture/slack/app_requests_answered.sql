-- title: No app request waits more than 30 days for an answer
-- severity: low
-- rationale: App approval only protects the workspace when requests are answered; requests left
--   pending push members to work around the approval, and mean nobody reviews the apps asked for.
-- remediation: Approve or restrict the pending requests named in the detail (Manage apps > Requests).
-- baselines: Slack Help Center: Security tips to protect your workspace - Manage apps with care (https://slack.com/help/articles/115004155306)
-- settings: app_requests
-- events: app_approved, app_restricted, app_resolved*
select count(*) filter (where to_timestamp((item->>'date_created')::bigint) < now() - interval 30 day) = 0 as passed,
       count(*) filter (where to_timestamp((item->>'date_created')::bigint) < now() - interval 30 day)
       || ' of ' || count(*) || ' pending app requests older than 30 days'
       || coalesce(': ' || string_agg(item->'app'->>'name', ', ' order by item->'app'->>'name')
           filter (where to_timestamp((item->>'date_created')::bigint) < now() - interval 30 day), '') as detail
from setting_items('app_requests')
