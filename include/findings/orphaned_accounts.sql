-- title: Orphaned accounts
-- description: People whose account in an identity provider (Okta, Google Workspace, Microsoft Entra ID) is
--   suspended or deprovisioned, but who still have an active account in another instance: access that
--   offboarding missed. People are linked across apps by the identities view (normalized email and the
--   providers' identity links); an account no key links to a person cannot be judged and is not listed.
-- severity: high
-- key: app, instance, account_id
-- suggests: suspend_account

-- identities is read once (a materialized CTE) and joined with itself, so a catalog where it is a
-- view links accounts into people once, not once per side of the join.
with people as materialized (
    select
        app, instance, account_id, person_id, person_email, login, email, display_name, account_type,
        is_admin, last_login_at, status, is_identity_provider
    from identities
)
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
    string_agg(
        distinct d.app || '/' || d.instance || ' (' || d.status || ')', ', '
        order by d.app || '/' || d.instance || ' (' || d.status || ')'
    ) as disabled_in
from people as i
join people as d
  on d.person_id = i.person_id
 and d.is_identity_provider
 and d.status in ('suspended', 'deprovisioned')
 and (d.app <> i.app or d.instance <> i.instance)
where i.status = 'active'
  and i.person_email is not null
group by all
order by i.app, i.instance, i.account_id
