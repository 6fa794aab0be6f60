-- title: Two-factor authentication is required for everyone in the organization
-- severity: high
-- rationale: Without the requirement, a member, outside collaborator or billing manager who signs in with a
--   password alone can reach the organization's code with a phished or reused password.
-- remediation: Organization settings > Authentication security: select 'Require two-factor authentication for
--   everyone in the organization' (members without 2FA are removed; invite them back after they enable it).
-- baselines: CIS Software Supply Chain Security Guide v1.0 1.3.5, GitHub docs: Requiring two-factor
--   authentication in your organization
-- settings: organization
-- events: org.enable_two_factor_requirement, org.disable_two_factor_requirement
select (setting('organization')->>'two_factor_requirement_enabled')::bool as passed,
       'two_factor_requirement_enabled: ' || coalesce(setting('organization')->>'two_factor_requirement_enabled', 'not given') as detail
