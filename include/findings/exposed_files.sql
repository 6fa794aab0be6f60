-- title: Files shared publicly or externally
-- description: Files whose widest exposure is public (anyone, or anyone with the link) or external (a
--   person, group or domain outside the organization), with who outside can reach them.
-- severity: high
-- key: app, instance, file_id
-- suggests: remove_public_link

select
    f.app,
    f.instance,
    f.file_id,
    f.name,
    f.path,
    f.owner_id,
    f.owner_email,
    f.visibility,
    f.modified_at,
    -- The shares that make it exposed: anyone/link principals and external people or domains.
    (
        select string_agg(
            distinct coalesce(s.principal_email, s.principal_type) || ' (' || coalesce(s.role, '?') || ')',
            ', '
        )
        from file_shares as s
        where s.app = f.app and s.instance = f.instance and s.file_id = f.file_id
          and (s.is_external or s.principal_type in ('anyone', 'link') and f.visibility = 'public')
    ) as exposed_to,
    -- The anyone / anyone-with-link shares, one per target of the suggested remove_public_link.
    (
        select list(s.share_id order by s.share_id)
        from file_shares as s
        where s.app = f.app and s.instance = f.instance and s.file_id = f.file_id
          and s.principal_type in ('anyone', 'link')
    ) as share_ids
from files as f
where f.visibility in ('public', 'external')
order by f.app, f.instance, f.file_id
