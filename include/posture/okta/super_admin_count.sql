-- title: At most 4 users are super administrators
-- severity: medium
-- rationale: A super administrator can change every setting, role and user; each extra one is another
--   account whose compromise is total. Keep a few (with a break-glass account), give others narrower roles.
-- remediation: Security > Administrators: replace Super Administrator with a narrower standard or custom
--   role for users who do not need it.
-- baselines: Okta Help: Administrators (least privilege with standard admin roles), NIST SP 800-53 AC-6(5)
-- settings: super_admins
-- events: user.account.privilege.grant, user.account.privilege.revoke, group.privilege.grant, group.privilege.revoke
select count(*) between 1 and 4 as passed, count(*) || ' super administrators' as detail
from setting_items('super_admins')
