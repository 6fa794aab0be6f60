-- title: Privileged accounts
-- description: Accounts holding an administrative role in the current snapshot, in any status, with the
--   roles that make them admins. Every admin is a high-value target: review the list for people who no
--   longer need the role and for admins whose account is not active.
-- severity: medium
-- key: app, instance, account_id

select
    a.app,
    a.instance,
    a.account_id,
    a.login,
    a.email,
    a.display_name,
    a.status,
    a.account_type,
    a.mfa_enabled,
    a.last_login_at,
    -- The roles behind is_admin, where the app lists them (privileges of the same snapshot).
    (
        select string_agg(distinct p.privilege_name, ', ' order by p.privilege_name)
        from privileges as p
        where p.app = a.app and p.instance = a.instance and p.account_id = a.account_id
    ) as privileges
from accounts as a
where a.is_admin
order by a.app, a.instance, a.account_id
