-- title: SAML single sign-on is configured for the organization
-- severity: high
-- rationale: Without SAML SSO, access to the organization does not follow the identity provider: leavers keep
--   access until removed by hand.
-- remediation: Organization settings > Authentication security: enable SAML authentication with your identity
--   provider (GitHub Enterprise Cloud).
-- baselines: GitHub docs: About identity and access management with SAML single sign-on
-- settings: saml_sso
-- events: org.enable_saml, org.disable_saml, org.update_saml_provider_settings
select (setting('saml_sso')->>'configured')::bool as passed,
       'SAML SSO configured: ' || coalesce(setting('saml_sso')->>'configured', 'not given') as detail
