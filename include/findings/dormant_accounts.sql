-- title: Dormant accounts
-- description: Active accounts with no sign-in for dormant_days days before as_of (default: now). An
--   account that never signed in counts when it was created before that. Apps that report neither last
--   sign-in nor creation time cannot show dormant accounts.
-- severity: medium
-- key: app, instance, account_id
-- param dormant_days: 90
-- param as_of: now

with cutoff as (
    select
        (case when lower($as_of) = 'now' then now() else cast($as_of as timestamptz) end)
            - to_days(cast($dormant_days as integer)) as since
)
select
    a.app,
    a.instance,
    a.account_id,
    a.login,
    a.email,
    a.display_name,
    a.account_type,
    a.is_admin,
    a.created_at,
    a.last_login_at
from accounts as a, cutoff
where a.status = 'active'
  and (
      a.last_login_at < cutoff.since
      or (a.last_login_at is null and a.created_at < cutoff.since)
  )
order by a.app, a.instance, a.account_id
