"""The Microsoft 365 settings stage's trimming and Global Administrator expansion, on Graph documents."""

from __future__ import annotations

from typing import Any

from saaslens.connectors.microsoft365.settings import (
    authentication_methods_policy,
    authorization_policy,
    conditional_access_policy,
    global_administrators,
)

USER = "#microsoft.graph.user"
GROUP = "#microsoft.graph.group"


def test_a_session_only_policy_keeps_its_null_grant_controls_and_unreturned_properties_stay_out():
    policy = {
        "id": "p1",
        "displayName": "Sign-in frequency",
        "state": "enabledForReportingButNotEnforced",
        "createdDateTime": "2024-03-11T09:15:22Z",
        "sessionControls": {"signInFrequency": {"value": 4}},
        "conditions": {
            "clientAppTypes": ["all"],
            "users": {"includeUsers": ["All"], "excludeUsers": ["b"], "includeRoles": []},
            "applications": {"includeApplications": ["All"], "excludeApplications": []},
            "platforms": None,
        },
        "grantControls": None,
    }
    assert conditional_access_policy(policy) == {
        "id": "p1",
        "displayName": "Sign-in frequency",
        "state": "enabledForReportingButNotEnforced",
        "conditions": {
            "clientAppTypes": ["all"],
            "users": {"includeUsers": ["All"], "excludeUsers": ["b"], "includeRoles": []},
            "applications": {"includeApplications": ["All"]},
        },
        "grantControls": None,
    }


def test_grant_controls_keep_operator_controls_and_the_strength_id():
    policy = {
        "id": "p2",
        "state": "enabled",
        "conditions": {"users": None, "applications": None},
        "grantControls": {
            "operator": "AND",
            "builtInControls": [],
            "termsOfUse": [],
            "authenticationStrength": {
                "id": "00000000-0000-0000-0000-000000000004",
                "displayName": "Phishing-resistant MFA",
                "allowedCombinations": ["fido2"],
            },
        },
    }
    trimmed = conditional_access_policy(policy)
    assert trimmed["conditions"] == {"users": None, "applications": None}
    assert trimmed["grantControls"] == {
        "operator": "AND",
        "builtInControls": [],
        "authenticationStrength": {
            "id": "00000000-0000-0000-0000-000000000004",
            "displayName": "Phishing-resistant MFA",
        },
    }


def test_authorization_and_authentication_methods_are_trimmed_to_what_rules_read():
    assert authorization_policy(
        {
            "allowInvitesFrom": "everyone",
            "blockMsolPowerShell": False,
            "defaultUserRolePermissions": {"allowedToCreateApps": True, "allowedToReadOtherUsers": True},
        }
    ) == {"allowInvitesFrom": "everyone", "defaultUserRolePermissions": {"allowedToCreateApps": True}}
    methods = authentication_methods_policy(
        {
            "policyMigrationState": "migrationInProgress",
            "authenticationMethodConfigurations": [{"id": "Sms", "state": "enabled", "includeTargets": []}],
        }
    )
    assert methods == {
        "policyMigrationState": "migrationInProgress",
        "registrationCampaign": {},
        "authenticationMethodConfigurations": [{"id": "Sms", "state": "enabled"}],
    }


class FakeGraph:
    def __init__(self, members: list[dict[str, Any]], groups: dict[str, list[dict[str, Any]]]) -> None:
        self.members, self.groups, self.paths = members, groups, []

    def items(self, path: str, params: dict[str, Any] | None = None):
        self.paths.append(path)
        return iter(self.members)

    def group_member_objects(self, group_id: str) -> list[dict[str, Any]]:
        return self.groups[group_id]


def test_global_administrators_expand_role_assignable_groups_and_count_each_user_once():
    graph = FakeGraph(
        [
            {"@odata.type": USER, "id": "u1", "userPrincipalName": "a@x", "displayName": "A"},
            {"@odata.type": GROUP, "id": "g1", "displayName": "Tier 0"},
            {"@odata.type": "#microsoft.graph.servicePrincipal", "id": "sp1"},
        ],
        {
            "g1": [
                {"@odata.type": USER, "id": "u1"},
                {"@odata.type": USER, "id": "u2"},
                {"@odata.type": GROUP, "id": "g2"},
            ]
        },
    )
    holders = global_administrators(graph)  # type: ignore[arg-type]
    assert graph.paths == ["/v1.0/directoryRoles(roleTemplateId='62e90394-69f5-4237-9190-012177145e10')/members"]
    assert [(h["id"], h["@odata.type"], h["viaGroup"]) for h in holders] == [
        ("u1", USER, None),
        ("g1", GROUP, None),
        ("sp1", "#microsoft.graph.servicePrincipal", None),
        ("u2", USER, "g1"),
    ]
