-- title: Every outside collaborator has two-factor authentication enabled
-- severity: high
-- rationale: Outside collaborators are managed by no one in the organization; without 2FA a stolen password
--   gives their repository access to anyone.
-- remediation: Ask the collaborators listed to enable 2FA, or remove their access; requiring 2FA for the
--   organization also covers outside collaborators.
-- baselines: CIS Software Supply Chain Security Guide v1.0 1.3.5, GitHub docs: Requiring two-factor
--   authentication in your organization
-- settings: outside_collaborators_without_2fa
-- events: org.disable_two_factor_requirement, org.add_outside_collaborator
select count(*) = 0 as passed,
       count(*) || ' outside collaborators without 2FA' || coalesce(': ' || string_agg(item->>'login', ', ' order by item->>'login'), '') as detail
from setting_items('outside_collaborators_without_2fa')
