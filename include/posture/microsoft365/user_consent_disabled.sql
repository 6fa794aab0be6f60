-- title: Users cannot consent to applications
-- severity: high
-- rationale: User consent is how illicit consent grant attacks get mail and file access; only administrators should
--   grant an application access to organisation data.
-- remediation: Entra admin center > Enterprise applications > Consent and permissions > User consent settings:
--   Do not allow user consent.
-- baselines: CISA SCuBA MS.AAD.5.2v1
-- settings: authorization_policy
-- events: Update authorization policy
with assigned as (
    select from_json(setting('authorization_policy')->'defaultUserRolePermissions'->'permissionGrantPoliciesAssigned', '["varchar"]') as policies
)
select not list_bool_or(list_transform(policies, lambda p: starts_with(p, 'ManagePermissionGrantsForSelf.'))) as passed,
       case when policies is null then 'permissionGrantPoliciesAssigned not returned'
            when len(list_filter(policies, lambda p: starts_with(p, 'ManagePermissionGrantsForSelf.'))) = 0 then 'no user consent policy assigned'
            else 'user consent through ' || array_to_string(list_filter(policies, lambda p: starts_with(p, 'ManagePermissionGrantsForSelf.')), ', ')
       end as detail
from assigned
