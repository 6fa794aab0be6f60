-- title: No approved app outside the App Directory holds a sensitive scope
-- severity: high
-- rationale: Slack reviews the apps of its App Directory; an approved app that is neither listed
--   there nor built in-house and that holds a scope Slack marks sensitive (reading files, messages,
--   admin rights) reaches workspace data without that review.
-- remediation: Review the apps named in the detail; restrict those not needed (Manage apps > Approved
--   apps > Restrict), and allow only App Directory apps where possible.
-- baselines: Slack Help Center: Security tips to protect your workspace - Manage apps with care (https://slack.com/help/articles/115004155306)
-- settings: approved_apps
-- events: app_approved, app_restricted, app_scopes_expanded, pref.app_dir_only
with apps as (
    select item->'app'->>'name' as name,
           coalesce((item->'app'->>'is_app_directory_approved')::bool, false)
               or coalesce((item->'app'->>'is_internal')::bool, false) as reviewed,
           coalesce(list_bool_or(list_transform(from_json(coalesce(item->'scopes', '[]'), '["json"]'),
               lambda s: coalesce((s->>'is_sensitive')::bool, false))), false) as sensitive
    from setting_items('approved_apps')
)
select count(*) filter (where sensitive and not reviewed) = 0 as passed,
       count(*) filter (where sensitive and not reviewed) || ' of ' || count(*) || ' approved apps unreviewed with sensitive scopes'
       || coalesce(': ' || string_agg(name, ', ' order by name) filter (where sensitive and not reviewed), '') as detail
from apps
