-- title: Files with sensitive content reachable by link
-- description: Files a DLP policy flags that anyone with the link (or anyone) can open, where the policy
--   asks for the public link to be removed; one row per file, with the link shares to remove.
-- severity: high
-- key: app, instance, file_id
-- suggests: remove_public_link

select
    d.app,
    d.instance,
    d.file_id,
    any_value(d.name) as name,
    any_value(d.owner_email) as owner_email,
    string_agg(distinct d.policy, ', ' order by d.policy) as policies,
    sum(d.matches)::bigint as matches,
    (
        select list(s.share_id order by s.share_id)
        from file_shares as s
        where s.app = d.app and s.instance = d.instance and s.file_id = d.file_id
          and s.principal_type in ('anyone', 'link')
    ) as share_ids
from dlp_findings as d
where d.visibility = 'public' and list_contains(d.actions, 'remove_public_link')
group by d.app, d.instance, d.file_id
order by d.app, d.instance, d.file_id
