-- title: Privilege changes since the previous snapshot
-- description: Accounts that became admins ('added', including accounts new in the newest snapshot as
--   admins) or stopped being admins ('removed', including admins gone from the newest snapshot),
--   comparing the newest and the previous accounts snapshot of each instance. An instance with a single
--   snapshot has no previous one to compare with.
-- severity: high
-- key: app, instance, account_id, change

-- The two newest snapshot ids of each instance are found first, over (app, instance, snapshot_id)
-- alone, so only those snapshots' rows are read, joined and compared.
with snapshots as (
    select
        app,
        instance,
        snapshot_id,
        dense_rank() over (partition by app, instance order by snapshot_id desc) as snapshot_rank
    from (select distinct app, instance, snapshot_id from accounts_history)
),
compared_pair as (
    -- Only instances that have a previous snapshot to compare against.
    select n.app, n.instance, n.snapshot_id as newest_id, p.snapshot_id as previous_id
    from snapshots as n
    join snapshots as p
      on p.app = n.app and p.instance = n.instance and n.snapshot_rank = 1 and p.snapshot_rank = 2
),
newest as (
    select h.app, h.instance, h.account_id, h.login, h.email, h.display_name, h.is_admin, h.snapshot_id
    from accounts_history as h
    join compared_pair as c on c.app = h.app and c.instance = h.instance and h.snapshot_id = c.newest_id
),
previous as (
    select h.app, h.instance, h.account_id, h.login, h.email, h.display_name, h.is_admin, h.snapshot_id
    from accounts_history as h
    join compared_pair as c on c.app = h.app and c.instance = h.instance and h.snapshot_id = c.previous_id
),
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
        p.snapshot_id as previous_snapshot_id
    from newest as n
    full outer join previous as p
      on p.app = n.app and p.instance = n.instance and p.account_id = n.account_id
)
select
    c.app, c.instance, c.account_id, c.change, c.login, c.email, c.display_name, c.previous_snapshot_id,
    pair.newest_id as snapshot_id
from compared as c
join compared_pair as pair on pair.app = c.app and pair.instance = c.instance
where c.change is not null
order by c.app, c.instance, c.account_id
