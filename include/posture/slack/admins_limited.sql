-- title: No more than ten workspace admins and owners
-- severity: low
-- rationale: Every admin can manage members, invitations and channels; the more admins, the more
--   accounts whose compromise gives an attacker those powers. Review admin rights when they grow.
-- remediation: Change the role of admins who do not need it to member (Manage members > account type).
-- baselines: Slack Help Center: Security tips to protect your workspace (https://slack.com/help/articles/115004155306)
-- settings: workspace_admins
-- events: role_change_to_admin, role_change_to_owner, role_change_to_user
select case when count(*) = 0 then null else count(*) <= 10 end as passed,
       count(*) || ' active admins and owners' as detail
from setting_items('workspace_admins')
where coalesce((item->>'is_active')::bool, true) and not coalesce((item->>'is_bot')::bool, false)
  and (coalesce((item->>'is_admin')::bool, false) or coalesce((item->>'is_owner')::bool, false)
       or coalesce((item->>'is_primary_owner')::bool, false))
