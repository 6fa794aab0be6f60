-- title: Every organization member has two-factor authentication enabled
-- severity: high
-- rationale: A member without 2FA is one password away from a takeover of everything the member can push to.
-- remediation: Ask the members listed to enable 2FA, or require 2FA for the organization (Authentication
--   security), which removes them until they do.
-- baselines: CIS Software Supply Chain Security Guide v1.0 1.3.5, GitHub docs: Requiring two-factor
--   authentication in your organization
-- settings: members_without_2fa
-- events: org.disable_two_factor_requirement, org.add_member
select count(*) = 0 as passed,
       count(*) || ' members without 2FA' || coalesce(': ' || string_agg(item->>'login', ', ' order by item->>'login'), '') as detail
from setting_items('members_without_2fa')
