-- title: Every workspace admin and owner has two-factor authentication
-- severity: high
-- rationale: An admin or owner account controls members, apps and settings; a phished password alone
--   must not open it. Slack's security tips ask members to set up 2FA and owners to make it mandatory.
-- remediation: Ask each admin and owner listed in the detail to turn on two-factor authentication
--   (Account > Settings > Two-factor authentication), or require it for the workspace
--   (Workspace settings > Authentication > Two-factor authentication) or sign-in through SSO.
-- baselines: Slack Help Center: Security tips to protect your workspace (https://slack.com/help/articles/115004155306)
-- settings: workspace_admins
-- events: pref.two_factor_auth_changed, role_change_to_admin, role_change_to_owner, role_change_to_user
with admins as (
    select item->>'id' as id, (item->>'has_2fa')::bool as has_2fa
    from setting_items('workspace_admins')
    where coalesce((item->>'is_active')::bool, true) and not coalesce((item->>'is_bot')::bool, false)
      and (coalesce((item->>'is_admin')::bool, false) or coalesce((item->>'is_owner')::bool, false)
           or coalesce((item->>'is_primary_owner')::bool, false))
)
select case
           when count(*) filter (where has_2fa = false) > 0 then false
           -- no admin listed, or one whose 2FA Slack did not report: the settings do not say
           when count(*) = 0 or count(*) filter (where has_2fa is null) > 0 then null
           else true
       end as passed,
       count(*) filter (where has_2fa = false) || ' of ' || count(*) || ' admins and owners without 2FA'
       || coalesce(': ' || string_agg(id, ', ' order by id) filter (where has_2fa = false), '') as detail
from admins
