-- title: Commits made in the web interface require sign-off
-- severity: low
-- rationale: Sign-off records that the author affirms the commit complies with the organization's rules;
--   without it web edits carry no such statement.
-- remediation: Organization settings > Repository > Repository defaults: select 'Require contributors to sign
--   off on web-based commits'.
-- baselines: GitHub docs: Managing the commit signoff policy for your organization
-- settings: organization
select (setting('organization')->>'web_commit_signoff_required')::bool as passed,
       'web_commit_signoff_required: ' || coalesce(setting('organization')->>'web_commit_signoff_required', 'not given') as detail
