-- title: Only owners can invite outside collaborators
-- severity: medium
-- rationale: When any repository admin may invite outside collaborators, people outside the organization gain
--   access without an owner's review.
-- remediation: Organization settings > Member privileges > Repository invitations: clear 'Allow members to
--   invite outside collaborators to repositories'.
-- baselines: GitHub docs: Setting permissions for adding outside collaborators
-- settings: organization
-- events: org.update_member_repository_invitation_permission
select not (setting('organization')->>'members_can_invite_outside_collaborators')::bool as passed,
       'members_can_invite_outside_collaborators: ' || coalesce(setting('organization')->>'members_can_invite_outside_collaborators', 'not given') as detail
