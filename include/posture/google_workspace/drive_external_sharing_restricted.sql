-- title: Drive external sharing is off or limited to allowlisted domains
-- severity: medium
-- rationale: Sharing with any outside account lets files leave the organization with a click. Evaluated on the root
--   organizational unit's effective value and on every narrower organizational unit or group with its own policy:
--   one that weakens the setting fails the rule.
-- remediation: Admin console > Apps > Google Workspace > Drive and Docs > Sharing settings: Sharing outside of the
--   organization Off, or Allowlisted domains only.
-- baselines: CISA SCuBA Google Workspace baseline GWS.DRIVEDOCS.1.1v1
-- settings: drive_and_docs_external_sharing
-- events: admin.CHANGE_DOCS_SETTING
with policies as (
    -- every policy of the setting: where it applies (an organizational unit, or a group) and its order
    select item->'policyQuery'->>'orgUnit' as org_unit,
           coalesce(item->'policyQuery'->>'group', '') as grp,
           (item->'policyQuery'->>'sortOrder')::double as sort_order,
           item->'setting'->'value'->'externalSharingMode' as v
    from setting_items('drive_and_docs_external_sharing')
), effective as (
    -- Google's reduction: per unit or group, the policy with the greatest sortOrder that sets the field
    -- (an admin policy over the system default); a unit whose policies leave it unset inherits it
    select org_unit, grp, arg_max(v, sort_order) as v
    from policies
    where v is not null and json_type(v) <> 'NULL'
    group by org_unit, grp
)
select bool_and(v->>'$' in ('DISALLOWED', 'ALLOWLISTED_DOMAINS')) as passed,
       'sharing modes: ' || string_agg(distinct v->>'$', ', ' order by v->>'$') as detail
from effective
