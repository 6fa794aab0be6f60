-- title: Microsoft Authenticator shows the app and location of a sign-in
-- severity: medium
-- rationale: With the requesting app and location on screen, a user is far less likely to approve an attacker's
--   push notification (MFA fatigue). A Microsoft-managed (default) state is not an explicit enablement.
-- remediation: Entra admin center > Authentication methods > Microsoft Authenticator > Configure: Show application
--   name and Show geographic location in push and passwordless notifications: Enabled for All users.
-- baselines: CISA SCuBA MS.AAD.3.3v1
-- settings: authentication_methods_policy
-- events: Authentication Methods Policy Update, Authentication Methods Policy Reset
with authenticator as (
    select item->>'state' as state,
           item->'featureSettings'->'displayAppInformationRequiredState'->>'state' as app_context,
           item->'featureSettings'->'displayLocationInformationRequiredState'->>'state' as location_context
    from (select unnest(from_json(setting('authentication_methods_policy')->'authenticationMethodConfigurations', '["json"]')) as item)
    where item->>'id' = 'MicrosoftAuthenticator'
)
select case
           when state = 'disabled' then true
           when state = 'enabled' then coalesce(app_context = 'enabled' and location_context = 'enabled', false)
       end as passed,
       'Authenticator ' || coalesce(state, 'state not returned') || ', application name ' || coalesce(app_context, 'not returned')
           || ', location ' || coalesce(location_context, 'not returned') as detail
from (select 1) left join authenticator on true
