-- title: Only owners and admins may delete messages
-- severity: low
-- rationale: Messages are the record of what was said and shared; when every member may delete
--   their messages, someone who leaked data or misbehaved can remove the evidence.
-- remediation: Workspace settings > Permissions > Message Editing & Deletion: set People who can
--   delete messages to workspace owners and admins only.
-- baselines: Slack Help Center: Manage permissions for message editing and deletion (https://slack.com/help/articles/115004868646)
-- settings: team_preferences
-- events: pref.allow_message_deletion
select not (setting('team_preferences')->>'allow_message_deletion')::bool as passed,
       'allow_message_deletion: ' || coalesce(setting('team_preferences')->>'allow_message_deletion', 'not reported') as detail
