"""The settings stage: the tenant's security configuration, one `settings` row per setting, for the
posture rules (include/posture/microsoft365/, docs/connectors/microsoft365.md "Security posture").

Endpoints (Microsoft Graph v1.0, application permission Policy.Read.All unless said):
- security_defaults: GET /policies/identitySecurityDefaultsEnforcementPolicy
  https://learn.microsoft.com/graph/api/identitysecuritydefaultsenforcementpolicy-get
- conditional_access_policies: GET /identity/conditionalAccess/policies (needs Microsoft Entra ID P1;
  a tenant without it is recorded unlicensed) https://learn.microsoft.com/graph/api/conditionalaccessroot-list-policies
- authorization_policy: GET /policies/authorizationPolicy (v1.0 answers the single object)
  https://learn.microsoft.com/graph/api/authorizationpolicy-get
- authentication_methods_policy: GET /policies/authenticationMethodsPolicy
  https://learn.microsoft.com/graph/api/authenticationmethodspolicy-get
- admin_consent_request_policy: GET /policies/adminConsentRequestPolicy
  https://learn.microsoft.com/graph/api/adminconsentrequestpolicy-get
- domains: GET /domains (Domain.Read.All or Directory.Read.All) https://learn.microsoft.com/graph/api/domain-list
- global_admins: GET /directoryRoles(roleTemplateId='62e90394-...')/members (RoleManagement.Read.Directory
  or Directory.Read.All), role-assignable groups expanded to their members
  https://learn.microsoft.com/graph/api/directoryrole-list-members

Values keep Graph's property names, trimmed to what the rules read (and what explains a result).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from saaslens.connectors.kit import JSON, Batch, Probe, SnapshotStage
from saaslens.connectors.microsoft365 import transform
from saaslens.connectors.microsoft365.connector import Microsoft365Connector
from saaslens.connectors.settings_reads import read_setting
from saaslens.vocabulary import Stage

GLOBAL_ADMINISTRATOR_TEMPLATE = "62e90394-69f5-4237-9190-012177145e10"
PERMISSION = "Policy.Read.All"


def _pick(doc: Mapping[str, Any] | None, *keys: str) -> dict[str, Any] | None:
    """The named properties of `doc` that Graph returned (a property Graph left out stays out, so a
    rule can tell "not returned" from null)."""
    if doc is None:
        return None
    return {key: doc[key] for key in keys if key in doc}


def conditional_access_policy(policy: Mapping[str, Any]) -> dict[str, Any]:
    conditions = policy.get("conditions") or {}
    grant = policy.get("grantControls")
    strength = (grant or {}).get("authenticationStrength")
    return {
        **(_pick(policy, "id", "displayName", "state") or {}),
        "conditions": {
            **(_pick(conditions, "clientAppTypes", "userRiskLevels", "signInRiskLevels") or {}),
            "users": _pick(conditions.get("users"), "includeUsers", "excludeUsers", "includeGroups", "includeRoles"),
            "applications": _pick(conditions.get("applications"), "includeApplications", "includeUserActions"),
        },
        # null for a policy with session controls only
        "grantControls": None
        if grant is None
        else {
            **(_pick(grant, "operator", "builtInControls") or {}),
            "authenticationStrength": _pick(strength, "id", "displayName"),
        },
    }


def authorization_policy(policy: Mapping[str, Any]) -> dict[str, Any]:
    return {
        **(_pick(policy, "allowInvitesFrom", "guestUserRoleId") or {}),
        "defaultUserRolePermissions": _pick(
            policy.get("defaultUserRolePermissions"),
            "allowedToCreateApps",
            "allowedToCreateTenants",
            "permissionGrantPoliciesAssigned",
        ),
    }


def authentication_methods_policy(policy: Mapping[str, Any]) -> dict[str, Any]:
    campaign = ((policy.get("registrationEnforcement") or {}).get("authenticationMethodsRegistrationCampaign")) or {}
    return {
        **(_pick(policy, "policyMigrationState") or {}),
        "registrationCampaign": _pick(campaign, "state"),
        "authenticationMethodConfigurations": [
            _pick(config, "id", "state", "featureSettings")
            for config in policy.get("authenticationMethodConfigurations") or []
        ],
    }


def scan_settings(connector: Microsoft365Connector, resume: JSON | None) -> Iterator[Batch]:
    get = connector.client.get_json
    rows = [
        read_setting(
            "security_defaults",
            "GET /v1.0/policies/identitySecurityDefaultsEnforcementPolicy",
            lambda: _pick(get("/v1.0/policies/identitySecurityDefaultsEnforcementPolicy"), "isEnabled"),
        ),
        read_setting(
            "conditional_access_policies",
            "GET /v1.0/identity/conditionalAccess/policies",
            lambda: [
                conditional_access_policy(p) for p in connector.items("/v1.0/identity/conditionalAccess/policies")
            ],
        ),
        read_setting(
            "authorization_policy",
            "GET /v1.0/policies/authorizationPolicy",
            lambda: authorization_policy(get("/v1.0/policies/authorizationPolicy")),
        ),
        read_setting(
            "authentication_methods_policy",
            "GET /v1.0/policies/authenticationMethodsPolicy",
            lambda: authentication_methods_policy(get("/v1.0/policies/authenticationMethodsPolicy")),
        ),
        read_setting(
            "admin_consent_request_policy",
            "GET /v1.0/policies/adminConsentRequestPolicy",
            lambda: _pick(get("/v1.0/policies/adminConsentRequestPolicy"), "isEnabled", "notifyReviewers", "reviewers"),
        ),
        read_setting(
            "domains",
            "GET /v1.0/domains",
            lambda: [
                _pick(d, "id", "isVerified", "isDefault", "authenticationType", "passwordValidityPeriodInDays")
                for d in connector.items("/v1.0/domains")
            ],
        ),
        read_setting(
            "global_admins",
            f"GET /v1.0/directoryRoles(roleTemplateId='{GLOBAL_ADMINISTRATOR_TEMPLATE}')/members",
            lambda: global_administrators(connector),
        ),
    ]
    yield Batch("settings", rows)


def global_administrators(connector: Microsoft365Connector) -> list[dict[str, Any]]:
    """Everyone holding Global Administrator: direct members as Graph lists them, and the users of a
    role-assignable group holding it (CISA MS.AAD.7.1v1 counts those too), each once, the direct
    holding first."""
    path = f"/v1.0/directoryRoles(roleTemplateId='{GLOBAL_ADMINISTRATOR_TEMPLATE}')/members"
    params = {"$select": "id,displayName,userPrincipalName"}
    holders: dict[str, dict[str, Any]] = {}
    groups = []
    for member in connector.items(path, params):
        if member.get("@odata.type") == transform.GROUP_ODATA_TYPE:
            groups.append(member)
        holders[member["id"]] = {**(_pick(member, "@odata.type", "id", "userPrincipalName") or {}), "viaGroup": None}
    for group in groups:
        for user in connector.group_member_objects(group["id"]):
            if transform.is_user(user) and user["id"] not in holders:
                holders[user["id"]] = {"@odata.type": user["@odata.type"], "id": user["id"], "viaGroup": group["id"]}
    return list(holders.values())


STAGE = SnapshotStage(
    stage=Stage.SETTINGS,
    scan=scan_settings,
    permission=PERMISSION,
    probe=Probe("/v1.0/policies/authorizationPolicy"),
)
