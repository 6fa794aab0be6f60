-- title: Orphaned accounts
-- description: People whose account in an identity provider (Okta, Google Workspace, Microsoft Entra ID) is
--   suspended or deprovisioned, but who still have an active account in another instance: access that
--   offboarding missed. People are linked across apps by the identities view (normalized email and the
--   providers' identity links); an account no key links to a person cannot be judged and is not listed.
-- severity: high
-- key: app, instance, account_id

select
    i.app,
    i.instance,
    i.account_id,
    i.person_id,
    i.login,
    i.email,
    i.display_name,
    i.account_type,
    i.is_admin,
    i.last_login_at,
    -- Where the identity provider has cut the person off (excluding the account's own instance).
    string_agg(distinct d.app || '/' || d.instance || ' (' || d.status || ')', ', ') as disabled_in
from identities as i
join identities as d
  on d.person_id = i.person_id
 and d.is_identity_provider
 and d.status in ('suspended', 'deprovisioned')
 and (d.app <> i.app or d.instance <> i.instance)
where i.status = 'active'
  and i.person_email is not null
group by all
order by i.app, i.instance, i.account_id
