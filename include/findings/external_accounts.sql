-- title: External and guest accounts
-- description: Guest accounts and accounts of people outside the organization (outside collaborators,
--   Slack Connect members) that are not deprovisioned: people with access who are not employees.
-- severity: low
-- key: app, instance, account_id

select
    app,
    instance,
    account_id,
    login,
    email,
    display_name,
    account_type,
    status,
    is_admin,
    created_at,
    last_login_at
from accounts
where account_type in ('guest', 'external')
  and status <> 'deprovisioned'
order by app, instance, account_id
