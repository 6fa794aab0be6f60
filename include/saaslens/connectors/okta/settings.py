"""The settings stage: the org's security configuration, one `settings` row per setting, for the
posture rules (include/posture/okta/, docs/posture.md).

Endpoints read (Okta Management API; each needs its own read scope, so a credential lacking one
makes only the rules reading that setting not evaluated):

- Policies by type, and each policy's rules (okta.policies.read):
  GET /api/v1/policies?type=PASSWORD | OKTA_SIGN_ON | MFA_ENROLL | ACCESS_POLICY and
  GET /api/v1/policies/{policyId}/rules,
  https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Policy/
  Authentication policies (ACCESS_POLICY) exist only in Identity Engine orgs; a Classic Engine org
  answers E0000015, which the connector reads as an unlicensed feature.
- Authenticators (okta.authenticators.read): GET /api/v1/authenticators,
  https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Authenticator/
- Network zones (okta.networkZones.read): GET /api/v1/zones,
  https://developer.okta.com/docs/api/openapi/okta-management/management/tag/NetworkZone/
- API token metadata, never the tokens (okta.apiTokens.read): GET /api/v1/api-tokens,
  https://developer.okta.com/docs/api/openapi/okta-management/management/tag/ApiToken/
- Super administrators (okta.roles.read): the role holders (GET /api/v1/iam/assignees/users) and
  their roles (GET /api/v1/users/{id}/roles),
  https://developer.okta.com/docs/api/openapi/okta-management/management/tag/RoleAssignmentAUser/

Values keep Okta's field names and only the fields the rules read, with each object's id, name and
status so a reader can find it in the Admin Console.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from saaslens.connectors.kit import JSON, Batch, Probe, SnapshotStage
from saaslens.connectors.okta.connector import OktaConnector
from saaslens.connectors.settings_reads import read_setting
from saaslens.http.client import api_path
from saaslens.http.pagination import LinkHeaderPaginator
from saaslens.vocabulary import Stage

# What identifies a policy or a rule, and how Okta orders and enables it.
_OBJECT_FIELDS = ("id", "name", "status", "system", "priority")


def _pick(doc: dict[str, Any], *paths: str) -> dict[str, Any]:
    """`doc` trimmed to the identifying fields and the dotted `paths` (absent ones stay absent, a
    null stays null: the rules tell "not set" from "set to nothing")."""
    out: dict[str, Any] = {key: doc[key] for key in _OBJECT_FIELDS if key in doc}
    for path in paths:
        parts = path.split(".")
        node: Any = doc
        for part in parts:
            if not isinstance(node, dict) or part not in node:
                break
            node = node[part]
        else:
            target = out
            for part in parts[:-1]:
                target = target.setdefault(part, {})
            target[parts[-1]] = node
    return out


def password_policy(doc: dict[str, Any]) -> dict[str, Any]:
    return _pick(
        doc,
        "settings.password.complexity",
        "settings.password.age",
        "settings.password.lockout",
    )


def mfa_enroll_policy(doc: dict[str, Any]) -> dict[str, Any]:
    return _pick(doc, "settings.type", "settings.authenticators")


def sign_on_rule(doc: dict[str, Any]) -> dict[str, Any]:
    return _pick(
        doc,
        "type",
        "actions.signon.access",
        "actions.signon.requireFactor",
        "actions.signon.factorPromptMode",
        "actions.signon.session",
    )


def access_rule(doc: dict[str, Any]) -> dict[str, Any]:
    return _pick(doc, "type", "actions.appSignOn.access", "actions.appSignOn.verificationMethod")


def authenticator(doc: dict[str, Any]) -> dict[str, Any]:
    return _pick(doc, "key", "type", "settings")


def network_zone(doc: dict[str, Any]) -> dict[str, Any]:
    return _pick(doc, "type", "usage", "gateways", "proxies", "locations", "asns", "proxyType")


def api_token(doc: dict[str, Any]) -> dict[str, Any]:
    return _pick(doc, "userId", "tokenWindow", "clientName", "created", "expiresAt")


def scan_settings(connector: OktaConnector, resume: JSON | None) -> Iterator[Batch]:
    client = connector.client

    def listing(path: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        return list(client.iter_items(path, LinkHeaderPaginator(), params))

    def policies(policy_type: str) -> list[dict[str, Any]]:
        return listing("/api/v1/policies", {"type": policy_type})

    def with_rules(policy_type: str, trim_rule: Any) -> list[dict[str, Any]]:
        found = []
        for policy in policies(policy_type):
            rules = listing(api_path("/api/v1/policies", policy["id"], "rules"))
            found.append(_pick(policy) | {"rules": [trim_rule(rule) for rule in rules]})
        return found

    def super_admins() -> list[dict[str, Any]]:
        holders = []
        for user_id in connector.role_holder_ids():
            roles = listing(api_path("/api/v1/users", user_id, "roles"))
            if any(role.get("type") == "SUPER_ADMIN" for role in roles):
                holders.append({"id": user_id})
        return holders

    yield Batch(
        "settings",
        [
            read_setting(
                "password_policies",
                "GET /api/v1/policies?type=PASSWORD",
                lambda: [password_policy(p) for p in policies("PASSWORD")],
            ),
            read_setting(
                "sign_on_policies",
                "GET /api/v1/policies?type=OKTA_SIGN_ON + /rules",
                lambda: with_rules("OKTA_SIGN_ON", sign_on_rule),
            ),
            read_setting(
                "mfa_enroll_policies",
                "GET /api/v1/policies?type=MFA_ENROLL",
                lambda: [mfa_enroll_policy(p) for p in policies("MFA_ENROLL")],
            ),
            read_setting(
                "access_policies",
                "GET /api/v1/policies?type=ACCESS_POLICY + /rules",
                lambda: with_rules("ACCESS_POLICY", access_rule),
            ),
            read_setting(
                "authenticators",
                "GET /api/v1/authenticators",
                lambda: [authenticator(a) for a in listing("/api/v1/authenticators")],
            ),
            read_setting(
                "network_zones", "GET /api/v1/zones", lambda: [network_zone(z) for z in listing("/api/v1/zones")]
            ),
            read_setting(
                "api_tokens",
                "GET /api/v1/api-tokens",
                lambda: [api_token(t) for t in listing("/api/v1/api-tokens", {"limit": 200})],
            ),
            read_setting("super_admins", "GET /api/v1/iam/assignees/users + /users/{id}/roles", super_admins),
        ],
    )


STAGE = SnapshotStage(
    stage=Stage.SETTINGS,
    scan=scan_settings,
    permission="okta.policies.read",
    probe=Probe("/api/v1/policies", {"type": "PASSWORD"}),
)
