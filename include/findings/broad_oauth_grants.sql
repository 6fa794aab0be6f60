-- title: OAuth grants with broad scopes
-- description: App grants holding at least one scope its app declares broad (the connector's scopes.py,
--   the catalog table broad_scopes): full mailbox, drive, directory or organization-admin access. A granted
--   scope matches a listed scope of the same app exactly, as the provider spells it.
-- severity: medium
-- key: app, instance, grant_id

-- The grants are read once; broad scopes are matched and aggregated per grant over its key alone,
-- and only the matching grants are then joined to their account.
with grants as materialized (
    select app, instance, grant_id, account_id, client_id, client_name, source, status, scopes
    from app_permissions
),
matched as (
    select
        g.app,
        g.instance,
        g.grant_id,
        list(distinct s.scope order by s.scope) as broad_scopes,
        string_agg(distinct b.why, ' | ' order by b.why) as why
    from grants as g,
         unnest(g.scopes) as s(scope)
    join broad_scopes as b
      on b.app = g.app and b.scope = s.scope
    group by g.app, g.instance, g.grant_id
)
select distinct
    g.app,
    g.instance,
    g.grant_id,
    g.account_id,
    a.email as account_email,
    a.status as account_status,
    g.client_id,
    g.client_name,
    g.source,
    g.status as grant_status,
    m.broad_scopes,
    m.why,
    g.scopes
from grants as g
join matched as m
  on m.app = g.app and m.instance = g.instance and m.grant_id = g.grant_id
left join accounts as a
  on a.app = g.app and a.instance = g.instance and a.account_id = g.account_id
order by g.app, g.instance, g.grant_id
