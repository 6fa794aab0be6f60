-- title: Drive SDK access is off
-- severity: low
-- rationale: The Drive SDK lets apps outside the Marketplace review reach users' files. Evaluated on the root
--   organizational unit's effective value and on every narrower organizational unit or group with its own policy:
--   one that weakens the setting fails the rule.
-- remediation: Admin console > Apps > Google Workspace > Drive and Docs > Features and Applications: uncheck Allow users to
--   access Google Drive with the Drive SDK API.
-- baselines: CISA SCuBA Google Workspace baseline GWS.DRIVEDOCS.4.1v1
-- settings: drive_and_docs_drive_sdk
-- events: admin.CHANGE_DOCS_SETTING
with policies as (
    -- every policy of the setting: where it applies (an organizational unit, or a group) and its order
    select item->'policyQuery'->>'orgUnit' as org_unit,
           coalesce(item->'policyQuery'->>'group', '') as grp,
           (item->'policyQuery'->>'sortOrder')::double as sort_order,
           item->'setting'->'value'->'enableDriveSdkApiAccess' as v
    from setting_items('drive_and_docs_drive_sdk')
), effective as (
    -- Google's reduction: per unit or group, the policy with the greatest sortOrder that sets the field
    -- (an admin policy over the system default); a unit whose policies leave it unset inherits it
    select org_unit, grp, arg_max(v, sort_order) as v
    from policies
    where v is not null and json_type(v) <> 'NULL'
    group by org_unit, grp
)
select bool_and(not (v->>'$')::bool) as passed,
       'Drive SDK allowed in ' || count(*) filter (where not (not (v->>'$')::bool)) || ' of ' || count(*) || ' organizational units / groups' as detail
from effective
