-- title: Files whose content breaks a DLP policy
-- description: Files whose newest content scan found what a policy of include/dlp_policies.yaml forbids
--   (card numbers, national ids, bank accounts, credentials, marked documents) at the exposure the file had
--   when scanned: counts and masked previews only, never a value. The policy's remedies are listed; they run
--   through governance (dry run, approval, audit) like every action. docs/dlp.md.
-- severity: high
-- key: app, instance, file_id, policy

select
    app,
    instance,
    file_id,
    name,
    owner_email,
    visibility,
    policy,
    title,
    severity,
    detectors,
    matches,
    masked_previews,
    actions,
    scanned_at,
    content_changed
from dlp_findings
order by
    case severity when 'high' then 0 when 'medium' then 1 else 2 end, app, instance, file_id, policy
