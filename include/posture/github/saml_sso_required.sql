-- title: SAML single sign-on is required for all members
-- severity: high
-- rationale: SAML SSO that is enabled but not required lets members reach the organization's resources
--   without the identity provider.
-- remediation: Organization settings > Authentication security: select 'Require SAML SSO authentication for
--   all members'.
-- baselines: GitHub docs: Enforcing SAML single sign-on for your organization
-- settings: saml_sso_enforcement
-- events: org.enable_saml, org.disable_saml
select (setting('saml_sso_enforcement')->>'required')::bool as passed, null as detail
