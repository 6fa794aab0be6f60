-- title: Messages may not be edited at any time after they are sent
-- severity: low
-- rationale: A message that can be edited at any time can be rewritten long after others acted on
--   it; a limited edit window keeps the record trustworthy while allowing typos to be fixed.
-- remediation: Workspace settings > Permissions > Message Editing & Deletion: under Allow editing,
--   choose never or a time limit instead of any time.
-- baselines: Slack Help Center: Manage permissions for message editing and deletion (https://slack.com/help/articles/115004868646)
-- settings: team_preferences
-- events: pref.msg_edit_window_mins
select -- msg_edit_window_mins is -1 when members may edit at any time, else the minutes after sending
       (setting('team_preferences')->>'msg_edit_window_mins')::int >= 0 as passed,
       'msg_edit_window_mins: ' || coalesce(setting('team_preferences')->>'msg_edit_window_mins', 'not reported') as detail
