-- title: Admins without MFA
-- description: Administrators the app reports as not enrolled in MFA / 2-step verification. Apps that do
--   not say whether an account uses MFA (mfa_enabled null) are left out rather than guessed: see
--   "MFA unknown" in the report's coverage notes.
-- severity: high
-- key: app, instance, account_id
-- suggests: force_password_change

select
    app,
    instance,
    account_id,
    login,
    email,
    display_name,
    status,
    last_login_at
from accounts
where is_admin
  and mfa_enabled = false
order by app, instance, account_id
