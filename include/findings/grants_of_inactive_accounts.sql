-- title: OAuth grants of suspended or deprovisioned accounts
-- description: App grants still recorded for an account the app itself has suspended or deprovisioned:
--   the token may outlive the person's access and should be revoked.
-- severity: high
-- key: app, instance, grant_id
-- suggests: revoke_grant

select
    g.app,
    g.instance,
    g.grant_id,
    g.account_id,
    a.login,
    a.email,
    a.status as account_status,
    g.client_id,
    g.client_name,
    g.scopes,
    g.status as grant_status,
    g.created_at
from app_permissions as g
join accounts as a
  on a.app = g.app and a.instance = g.instance and a.account_id = g.account_id
where a.status in ('suspended', 'deprovisioned')
order by g.app, g.instance, g.grant_id
