-- title: No more than three workspace owners
-- severity: medium
-- rationale: Owners can change every workspace setting, including authentication, and manage other
--   owners; each owner account is a way to take the workspace over. Few owners, few such ways.
-- remediation: Change the role of owners who do not need it to admin or member (Manage members >
--   account type), keeping the primary owner and at most two others.
-- baselines: Slack Help Center: Security tips to protect your workspace (https://slack.com/help/articles/115004155306)
-- settings: workspace_admins
-- events: role_change_to_owner, role_change_to_admin, role_change_to_user, owner_transferred
select case when count(*) = 0 then null else count(*) <= 3 end as passed,
       count(*) || ' active owners' as detail
from setting_items('workspace_admins')
where coalesce((item->>'is_active')::bool, true)
  and (coalesce((item->>'is_owner')::bool, false) or coalesce((item->>'is_primary_owner')::bool, false))
