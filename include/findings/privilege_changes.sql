-- title: Privilege changes since the previous snapshot
-- description: Accounts that became admins ('added', including accounts new in the newest snapshot as
--   admins) or stopped being admins ('removed', including admins gone from the newest snapshot),
--   comparing the newest and the previous accounts snapshot of each instance. An instance with a single
--   snapshot has no previous one to compare with.
-- severity: high
-- key: app, instance, account_id, change

with ranked as (
    select
        *,
        dense_rank() over (partition by app, instance order by snapshot_id desc) as snapshot_rank
    from accounts_history
),
newest as (select * from ranked where snapshot_rank = 1),
previous as (select * from ranked where snapshot_rank = 2),
compared as (
    select
        coalesce(n.app, p.app) as app,
        coalesce(n.instance, p.instance) as instance,
        coalesce(n.account_id, p.account_id) as account_id,
        coalesce(n.login, p.login) as login,
        coalesce(n.email, p.email) as email,
        coalesce(n.display_name, p.display_name) as display_name,
        case
            when n.is_admin and (p.account_id is null or p.is_admin = false) then 'added'
            when p.is_admin and (n.account_id is null or n.is_admin = false) then 'removed'
        end as change,
        p.snapshot_id as previous_snapshot_id,
        max(n.snapshot_id) over (partition by coalesce(n.app, p.app), coalesce(n.instance, p.instance))
            as snapshot_id
    from newest as n
    full outer join previous as p
      on p.app = n.app and p.instance = n.instance and p.account_id = n.account_id
    -- Only instances that have a previous snapshot to compare against.
    where exists (
        select 1 from previous as q
        where q.app = coalesce(n.app, p.app) and q.instance = coalesce(n.instance, p.instance)
    )
)
select app, instance, account_id, change, login, email, display_name, previous_snapshot_id, snapshot_id
from compared
where change is not null
order by app, instance, account_id
