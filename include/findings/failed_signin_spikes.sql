-- title: Failed sign-in spikes
-- description: UTC hours in the last `days` days (up to as_of, default now) with at least `threshold`
--   failed sign-ins for one account (dimension 'account': the user the sign-in was for, else the actor)
--   or from one source IP (dimension 'ip'): password spraying, credential stuffing or a locked-out user.
-- severity: medium
-- key: app, instance, dimension, subject, hour
-- param threshold: 10
-- param days: 7
-- param as_of: now

with failures as (
    select
        a.app,
        a.instance,
        a.occurred_at,
        -- The account is a user-typed target (Okta, Slack, GitHub name the account signed in to
        -- there), else the actor: a Microsoft 365 sign-in targets the application and an Okta SSO
        -- denial the app instance, and neither is an account.
        coalesce(case when lower(a.target_type) = 'user' then a.target_name end, a.actor_login) as account,
        a.ip,
        -- The hour in UTC whatever the session time zone, as a timestamp with time zone.
        timezone('UTC', date_trunc('hour', timezone('UTC', a.occurred_at))) as hour
    from activities as a
    -- The window's ends are written as constant expressions (not a joined CTE) so DuckDB pushes
    -- them into the Parquet scan and skips the files and row groups of other days.
    where a.category = 'logon'
      and a.outcome = 'failure'
      and a.occurred_at >= (case when lower($as_of) = 'now' then now() else cast($as_of as timestamptz) end)
                           - to_days(cast($days as integer))
      and a.occurred_at <= (case when lower($as_of) = 'now' then now() else cast($as_of as timestamptz) end)
),
by_subject as (
    select app, instance, 'account' as dimension, account as subject, hour, occurred_at, ip as other
    from failures where account is not null
    union all
    select app, instance, 'ip' as dimension, ip as subject, hour, occurred_at, account as other
    from failures where ip is not null
)
select
    app,
    instance,
    dimension,
    subject,
    hour,
    count(*) as failures,
    -- For an account: how many IPs it failed from; for an IP: how many accounts it tried.
    count(distinct other) as distinct_counterparts,
    min(occurred_at) as first_failure_at,
    max(occurred_at) as last_failure_at
from by_subject
group by app, instance, dimension, subject, hour
having count(*) >= $threshold
order by app, instance, dimension, subject, hour
