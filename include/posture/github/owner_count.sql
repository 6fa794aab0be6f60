-- title: The organization has between two and five owners
-- severity: medium
-- rationale: One owner is a single point of failure; every owner beyond a few is another account that can
--   change every setting and repository.
-- remediation: Organization > People: give a second trusted person the owner role, or change surplus owners
--   to members.
-- baselines: CIS Software Supply Chain Security Guide v1.0 1.3.3, GitHub docs: Best practices for
--   organizations
-- settings: owners
-- events: org.update_member, org.add_member, org.remove_member
select count(*) between 2 and 5 as passed, count(*) || ' owners' as detail
from setting_items('owners')
