-- title: No workspace of the organization is open for anyone in it to join
-- severity: medium
-- rationale: An open workspace lets every member of the organization join it and read its public
--   channels without an invitation; workspaces should be joined on invitation or approved request.
-- remediation: Organization settings > Workspaces: set the discoverability of the workspaces named in
--   the detail to invite only (request to join), closed or unlisted.
-- baselines: Slack Help Center: Security tips to protect your workspace - Limit access to your workspace (https://slack.com/help/articles/115004155306)
-- settings: workspaces
select case
           when count(*) filter (where item->>'discoverability' = 'open') > 0 then false
           when count(*) = 0 or count(*) filter (where item->>'discoverability' is null) > 0 then null
           else true
       end as passed,
       count(*) filter (where item->>'discoverability' = 'open') || ' of ' || count(*) || ' workspaces open'
       || coalesce(': ' || string_agg(item->>'name', ', ' order by item->>'name')
           filter (where item->>'discoverability' = 'open'), '') as detail
from setting_items('workspaces')
