"""An Okta org's security configuration: policies and their rules, authenticators, network zones
and API token metadata, generated per tenant seed and changed by ``advance`` (settings_changes).

Shapes follow Okta's Management API (the OpenAPI description, management.yaml, and its pages):

* Policies by type (PASSWORD, OKTA_SIGN_ON, MFA_ENROLL, ACCESS_POLICY), ``system`` for the policies
  Okta created, ``status`` ACTIVE / INACTIVE, password ``settings.password.{complexity,age,lockout}``
  (``maxAgeDays`` 0 = passwords never expire, ``historyCount``, ``minAgeMinutes``, ``maxAttempts``),
  MFA enrollment ``settings.authenticators[].{key, enroll.self}`` (REQUIRED / OPTIONAL / NOT_ALLOWED):
  https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Policy/
* Policy rules (GET /api/v1/policies/{policyId}/rules): global session (SIGN_ON) rules'
  ``actions.signon.{access, requireFactor, session.{maxSessionIdleMinutes, maxSessionLifetimeMinutes
  (0 = no limit), usePersistentCookie}}`` (a DENY rule has no session), authentication (ACCESS_POLICY)
  rules' ``actions.appSignOn.{access, verificationMethod.{factorMode 1FA/2FA, constraints[].possession
  .phishingResistant}}``, the system "Default Rule" / "Catch-all Rule" at the lowest priority:
  same page, and https://developer.okta.com/docs/concepts/policies/
* Authenticators (GET /api/v1/authenticators, keys okta_email, okta_password, okta_verify, webauthn,
  phone_number, security_question, google_otp; the password authenticator has no ``settings``):
  https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Authenticator/
* Network zones (GET /api/v1/zones; the system zones LegacyIpZone and BlockedIpZone, the latter an
  IP BLOCKLIST zone that is empty until an admin fills it; DYNAMIC zones with ``proxyType``):
  https://developer.okta.com/docs/api/openapi/okta-management/management/tag/NetworkZone/
* API token metadata (GET /api/v1/api-tokens: name, userId, tokenWindow as an ISO-8601 duration,
  P30D by default, created, expiresAt, clientName):
  https://developer.okta.com/docs/api/openapi/okta-management/management/tag/ApiToken/
* The System Log events a change writes (policy.lifecycle.update / activate / deactivate,
  policy.rule.update / activate / deactivate with the Policy and PolicyRule as targets,
  security.authenticator.lifecycle.activate / deactivate, zone.update / activate / deactivate):
  https://developer.okta.com/docs/reference/api/event-types/ and, for the policy rule event's two
  targets, https://help.okta.com/wf/en-us/content/topics/Workflows/connector-reference/okta/events/policyruleupdated.htm

Every tenant starts from a hardened baseline (the DISA Okta IDaaS STIG's values) and gets a few
planted misconfigurations drawn from its seed (:data:`PLANTS`), plus oddities every tenant has: an
INACTIVE weak password policy and an INACTIVE sign-on rule (neither counts), a DENY rule without a
session, an empty system blocklist zone, and the password authenticator without settings.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from saaslens_sandbox.okta.generator import OktaTenant

DAY_MS = 86_400_000

# What can be planted, each breaking one hardened setting (and so at least one posture rule).
PLANTS: tuple[str, ...] = (
    "short_passwords",
    "no_symbol_for_contractors",
    "weak_lockout",
    "passwords_never_expire",
    "no_password_history",
    "long_idle_session",
    "unlimited_persistent_session",
    "admin_console_single_factor",
    "dashboard_single_factor",
    "sms_enabled",
    "no_blocklist",
    "long_lived_api_token",
)


@dataclass
class OrgSettings:
    policies: list[dict[str, Any]] = field(default_factory=list)  # every type, in listing order
    rules: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # policy id -> its rules
    authenticators: list[dict[str, Any]] = field(default_factory=list)
    zones: list[dict[str, Any]] = field(default_factory=list)
    api_tokens: list[dict[str, Any]] = field(default_factory=list)
    planted: tuple[str, ...] = ()

    def policies_of(self, policy_type: str) -> list[dict[str, Any]]:
        # Okta lists a type's policies by priority (https://developer.okta.com/docs/concepts/policies/)
        return sorted((p for p in self.policies if p["type"] == policy_type), key=lambda p: p["priority"])

    def policy_named(self, name: str, policy_type: str | None = None) -> dict[str, Any]:
        for p in self.policies:
            if p["name"] == name and (policy_type is None or p["type"] == policy_type):
                return p
        raise ValueError(f"no policy named {name!r}" + (f" of type {policy_type}" if policy_type else ""))

    def rule_named(self, policy: dict[str, Any], name: str) -> dict[str, Any]:
        for r in self.rules.get(policy["id"], []):
            if r["name"] == name:
                return r
        raise ValueError(f"policy {policy['name']!r} has no rule named {name!r}")

    def authenticator(self, key: str) -> dict[str, Any]:
        for a in self.authenticators:
            if a["key"] == key:
                return a
        raise ValueError(f"no authenticator with key {key!r}")

    def zone_named(self, name: str) -> dict[str, Any]:
        for z in self.zones:
            if z["name"] == name:
                return z
        raise ValueError(f"no network zone named {name!r}")

    def truth(self) -> dict[str, Any]:
        """The settings as the API serves them (without links), for an oracle."""
        return copy.deepcopy(
            {
                "policies": self.policies,
                "policy_rules": self.rules,
                "authenticators": self.authenticators,
                "network_zones": self.zones,
                "api_tokens": self.api_tokens,
                "planted": list(self.planted),
            }
        )


def _complexity(min_length: int, symbol: int = 1) -> dict[str, Any]:
    return {
        "minLength": min_length,
        "minLowerCase": 1,
        "minUpperCase": 1,
        "minNumber": 1,
        "minSymbol": symbol,
        "excludeUsername": True,
        "excludeAttributes": ["firstName", "lastName"],
        "dictionary": {"common": {"exclude": True}},
    }


def _password_settings(min_length: int = 15, symbol: int = 1) -> dict[str, Any]:
    return {
        "password": {
            "complexity": _complexity(min_length, symbol),
            # the STIG's values: 60 days max, 24 hours min, 5 remembered, lock out after 3 attempts
            "age": {"maxAgeDays": 60, "expireWarnDays": 7, "minAgeMinutes": 1440, "historyCount": 5},
            "lockout": {
                "maxAttempts": 3,
                "autoUnlockMinutes": 15,
                "userLockoutNotificationChannels": ["EMAIL"],
                "showLockoutFailures": False,
            },
        },
        "recovery": {"factors": {"okta_email": {"status": "ACTIVE", "properties": {"recoveryToken": {}}}}},
        "delegation": {"options": {"skipUnlock": False}},
    }


def _signon_rule(
    rid: str,
    name: str,
    priority: int,
    *,
    system: bool = False,
    status: str = "ACTIVE",
    idle: int = 15,
    lifetime: int = 1080,
    persistent: bool = False,
    access: str = "ALLOW",
    created: str | None = None,
) -> dict[str, Any]:
    signon: dict[str, Any] = {"access": access}
    if access == "ALLOW":
        signon |= {
            "requireFactor": True,
            "factorPromptMode": "ALWAYS",
            "rememberDeviceByDefault": False,
            "primaryFactor": "PASSWORD_IDP_ANY_FACTOR",
            "session": {
                "usePersistentCookie": persistent,
                "maxSessionIdleMinutes": idle,
                "maxSessionLifetimeMinutes": lifetime,
            },
        }
    return {
        "id": rid,
        "name": name,
        "priority": priority,
        "status": status,
        "system": system,
        "type": "SIGN_ON",
        "created": created,
        "lastUpdated": created,
        "conditions": {"network": {"connection": "ANYWHERE"}, "people": {"users": {"exclude": []}}},
        "actions": {"signon": signon},
    }


def _access_rule(
    rid: str,
    name: str,
    priority: int,
    *,
    factor_mode: str = "2FA",
    phishing_resistant: bool = True,
    access: str = "ALLOW",
    system: bool = False,
    created: str | None = None,
) -> dict[str, Any]:
    constraints: list[dict[str, Any]] = []
    if phishing_resistant:
        constraints.append({"possession": {"deviceBound": "REQUIRED", "phishingResistant": "REQUIRED"}})
    return {
        "id": rid,
        "name": name,
        "priority": priority,
        "status": "ACTIVE",
        "system": system,
        "type": "ACCESS_POLICY",
        "created": created,
        "lastUpdated": created,
        "conditions": None if system else {"people": {"groups": {"include": []}}},
        "actions": {
            "appSignOn": {
                "access": access,
                "verificationMethod": {
                    "factorMode": factor_mode,
                    "type": "ASSURANCE",
                    "reauthenticateIn": "PT2H" if factor_mode == "2FA" else "PT12H",
                    "constraints": constraints,
                },
            }
        },
    }


def generate(t: OktaTenant) -> OrgSettings:
    """The tenant's settings: the hardened baseline, then the plants its seed draws."""
    from saaslens_sandbox.okta.generator import FastRandom, _Ids, iso

    rng = FastRandom(f"okta-settings:{t.seed}")
    ids = _Ids(rng)
    ids.seen |= t._ids.seen  # never reuse an id the tenant already has
    anchor = t.anchor_ms // 1000 * 1000

    def when(days_ago: float) -> str:
        return str(iso(anchor - round(days_ago * DAY_MS)))

    existing = {(p["name"], p["type"]): p["id"] for p in t.policies}
    everyone = t.group_ids[0] if t.group_ids else ids("00g")
    s = OrgSettings()

    def policy(
        name: str,
        ptype: str,
        priority: int,
        *,
        system: bool = False,
        status: str = "ACTIVE",
        settings: dict[str, Any] | None = None,
        days: float = 400,
    ) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "id": existing.get((name, ptype)) or ids("00p" if ptype != "ACCESS_POLICY" else "rst"),
            "name": name,
            "description": (
                "The default policy applies in all situations if no other policy applies."
                if system
                else f"{name} (managed by IT security)"
            ),
            "priority": priority,
            "status": status,
            "system": system,
            "type": ptype,
            "created": when(days),
            "lastUpdated": when(days / 3),
            "conditions": {"people": {"groups": {"include": [everyone]}}} if ptype != "ACCESS_POLICY" else None,
        }
        if settings is not None:
            doc["settings"] = settings
        s.policies.append(doc)
        s.rules[doc["id"]] = []
        return doc

    # Password policies: two active hardened ones, and an INACTIVE weak leftover that must not count.
    contractors = policy("Contractors Password Policy", "PASSWORD", 1, settings=_password_settings(), days=300)
    default_pw = policy("Default Password Policy", "PASSWORD", 3, system=True, settings=_password_settings(), days=900)
    legacy = _password_settings(min_length=6, symbol=0)
    legacy["password"]["age"] = {"maxAgeDays": 0, "expireWarnDays": 0, "minAgeMinutes": 0, "historyCount": 0}
    legacy["password"]["lockout"]["maxAttempts"] = 0
    policy("Legacy LDAP Import", "PASSWORD", 2, status="INACTIVE", settings=legacy, days=1200)
    for p in s.policies_of("PASSWORD"):
        s.rules[p["id"]].append(
            {
                "id": ids("0pr"),
                "name": "Default Rule",
                "priority": 1,
                "status": "ACTIVE",
                "system": True,
                "type": "PASSWORD",
                "created": p["created"],
                "lastUpdated": p["created"],
                "conditions": {"network": {"connection": "ANYWHERE"}},
                "actions": {
                    "passwordChange": {"access": "ALLOW"},
                    "selfServicePasswordReset": {"access": "ALLOW"},
                    "selfServiceUnlock": {"access": "DENY"},
                },
            }
        )

    # Global session policies (OKTA_SIGN_ON): a priority-1 rule and the system Default Rule, both
    # hardened; an INACTIVE old rule and a DENY rule without a session, which must not count.
    signon = policy("Default Policy", "OKTA_SIGN_ON", 2, system=True, days=900)
    contractors_signon = policy("Contractors Sign-On", "OKTA_SIGN_ON", 1, days=250)
    s.rules[signon["id"]] = [
        _signon_rule(ids("0pr"), "Require MFA, 15 minute idle", 1, created=when(200)),
        _signon_rule(ids("0pr"), "Block blocklisted networks", 2, access="DENY", created=when(150)),
        _signon_rule(ids("0pr"), "Old VPN rule", 3, status="INACTIVE", idle=480, lifetime=0, created=when(700)),
        _signon_rule(ids("0pr"), "Default Rule", 4, system=True, created=signon["created"]),
    ]
    s.rules[contractors_signon["id"]] = [
        _signon_rule(ids("0pr"), "Contractors: MFA every sign-in", 1, idle=10, lifetime=480, created=when(240)),
    ]

    # MFA enrollment: Okta Verify required, FIDO2 optional, phone and questions not allowed; an
    # INACTIVE pilot policy that would require SMS (must not count).
    def enroll(**modes: str) -> dict[str, Any]:
        return {
            "type": "AUTHENTICATORS",
            "authenticators": [{"key": key, "enroll": {"self": mode}} for key, mode in modes.items()],
        }

    policy(
        "MFA Enrollment",
        "MFA_ENROLL",
        2,
        system=True,
        days=800,
        settings=enroll(
            okta_password="REQUIRED",
            okta_verify="REQUIRED",
            webauthn="OPTIONAL",
            okta_email="NOT_ALLOWED",
            phone_number="NOT_ALLOWED",
            security_question="NOT_ALLOWED",
        ),
    )
    policy(
        "SMS pilot",
        "MFA_ENROLL",
        1,
        status="INACTIVE",
        days=500,
        settings=enroll(okta_password="REQUIRED", phone_number="REQUIRED", okta_verify="OPTIONAL"),
    )

    for p in s.policies_of("MFA_ENROLL"):  # each with its system rule: enroll when challenged
        s.rules[p["id"]].append(
            {
                "id": ids("0pr"),
                "name": "Default Rule",
                "priority": 1,
                "status": "ACTIVE",
                "system": True,
                "type": "MFA_ENROLL",
                "created": p["created"],
                "lastUpdated": p["created"],
                "conditions": {"people": {"users": {"exclude": []}}, "network": {"connection": "ANYWHERE"}},
                "actions": {"enroll": {"self": "CHALLENGE"}},
            }
        )

    # Authentication policies (Identity Engine): the Admin Console's and the Dashboard's, plus a
    # custom one for other apps and the system default.
    admin_console = policy("Okta Admin Console", "ACCESS_POLICY", 1, days=600)
    dashboard = policy("Okta Dashboard", "ACCESS_POLICY", 2, days=600)
    custom = policy("Admin Console Access", "ACCESS_POLICY", 3, days=300)
    default_access = policy("Default Policy", "ACCESS_POLICY", 4, system=True, days=900)
    s.rules[admin_console["id"]] = [
        _access_rule(ids("rul"), "Admins: phishing-resistant MFA", 0, created=when(120)),
        _access_rule(ids("rul"), "Catch-all Rule", 99, access="DENY", system=True, created=admin_console["created"]),
    ]
    s.rules[dashboard["id"]] = [
        _access_rule(ids("rul"), "Everyone: two factors", 0, phishing_resistant=False, created=when(120)),
        _access_rule(
            ids("rul"), "Catch-all Rule", 99, phishing_resistant=False, system=True, created=dashboard["created"]
        ),
    ]
    s.rules[custom["id"]] = [
        _access_rule(ids("rul"), "Catch-all Rule", 99, phishing_resistant=False, system=True, created=custom["created"])
    ]
    s.rules[default_access["id"]] = [
        _access_rule(
            ids("rul"),
            "Catch-all Rule",
            99,
            factor_mode="1FA",
            phishing_resistant=False,
            system=True,
            created=default_access["created"],
        ),
    ]

    # Authenticators (the password one has no settings in Okta's answer).
    def authenticator(key: str, atype: str, name: str, status: str, settings: dict[str, Any] | None) -> None:
        doc: dict[str, Any] = {
            "id": ids("aut"),
            "key": key,
            "name": name,
            "status": status,
            "type": atype,
            "created": when(900),
            "lastUpdated": when(90),
        }
        if settings is not None:
            doc["settings"] = settings
        s.authenticators.append(doc)

    authenticator("okta_email", "email", "Email", "ACTIVE", {"allowedFor": "recovery", "tokenLifetimeInMinutes": 5})
    authenticator("okta_password", "password", "Password", "ACTIVE", None)
    verify_settings = {"allowedFor": "any", "compliance": {"fips": "OPTIONAL"}}
    authenticator("okta_verify", "app", "Okta Verify", "ACTIVE", verify_settings)
    authenticator("webauthn", "security_key", "Security Key or Biometric", "ACTIVE", {"allowedFor": "any"})
    authenticator("phone_number", "phone", "Phone", "INACTIVE", {"allowedFor": "none"})
    authenticator("security_question", "security_question", "Security Question", "INACTIVE", {"allowedFor": "none"})
    authenticator("google_otp", "app", "Google Authenticator", "INACTIVE", None)

    # Network zones: the two system IP zones (BlockedIpZone empty, as Okta creates it), the offices,
    # and a dynamic zone blocking anonymizers.
    def zone(name: str, ztype: str, usage: str, *, system: bool = False, **extra: Any) -> None:
        doc: dict[str, Any] = {
            "type": ztype,
            "id": ids("nzo"),
            "name": name,
            "status": "ACTIVE",
            "usage": usage,
            "created": when(900 if system else 300),
            "lastUpdated": when(60),
            "system": system,
        }
        s.zones.append(doc | extra)

    zone("LegacyIpZone", "IP", "POLICY", system=True, gateways=[], proxies=None)
    zone("BlockedIpZone", "IP", "BLOCKLIST", system=True, gateways=[], proxies=None)
    offices = [{"type": "CIDR", "value": "198.51.100.0/24"}, {"type": "RANGE", "value": "203.0.113.10-203.0.113.40"}]
    zone("Corporate offices", "IP", "POLICY", gateways=offices, proxies=None)
    zone("Block anonymizers", "DYNAMIC", "BLOCKLIST", proxyType="Tor", locations=[], asns=[])

    # API tokens: the tenant's own (the ones the sandbox accepts), each with the default 30-day window.
    for j, spec in enumerate(t.api_tokens):
        owner = t.urecs[t.owner_index[j]]
        created = anchor - (j + 1) * 36 * 3_600_000  # within the hour of its system.api_token.create event
        s.api_tokens.append(
            {
                "name": spec.name or f"sandbox token {j + 1}",
                "userId": owner.id,
                "tokenWindow": "P30D",
                "id": t.token_ids[j],
                "clientName": "Okta API",
                "created": iso(created),
                "lastUpdated": iso(created),
                "expiresAt": iso(anchor + 30 * DAY_MS),
            }
        )

    # The plants: three to five per tenant, drawn from the seed.
    draw = FastRandom(f"okta-settings-plants:{t.seed}")
    planted = tuple(sorted(draw.sample(PLANTS, 3 + draw.fr(3)), key=PLANTS.index))
    s.planted = planted
    for plant in planted:
        if plant == "short_passwords":
            default_pw["settings"]["password"]["complexity"]["minLength"] = 8
        elif plant == "no_symbol_for_contractors":
            contractors["settings"]["password"]["complexity"]["minSymbol"] = 0
        elif plant == "weak_lockout":
            default_pw["settings"]["password"]["lockout"]["maxAttempts"] = 10
        elif plant == "passwords_never_expire":
            default_pw["settings"]["password"]["age"]["maxAgeDays"] = 0
        elif plant == "no_password_history":
            contractors["settings"]["password"]["age"]["historyCount"] = 0
        elif plant == "long_idle_session":  # Okta's own default for the Default Rule: 2 hours idle
            s.rule_named(signon, "Default Rule")["actions"]["signon"]["session"]["maxSessionIdleMinutes"] = 120
        elif plant == "unlimited_persistent_session":
            session = s.rule_named(contractors_signon, "Contractors: MFA every sign-in")["actions"]["signon"]["session"]
            session["maxSessionLifetimeMinutes"] = 0
            session["usePersistentCookie"] = True
        elif plant == "admin_console_single_factor":
            method = s.rule_named(admin_console, "Admins: phishing-resistant MFA")["actions"]["appSignOn"]
            method["verificationMethod"] |= {"factorMode": "1FA", "constraints": []}
        elif plant == "dashboard_single_factor":
            catch_all = s.rule_named(dashboard, "Catch-all Rule")["actions"]["appSignOn"]
            catch_all["verificationMethod"]["factorMode"] = "1FA"
        elif plant == "sms_enabled":
            phone = s.authenticator("phone_number")
            phone["status"], phone["settings"] = "ACTIVE", {"allowedFor": "any"}
            mfa = s.policy_named("MFA Enrollment", "MFA_ENROLL")
            for item in mfa["settings"]["authenticators"]:
                if item["key"] == "phone_number":
                    item["enroll"]["self"] = "OPTIONAL"
        elif plant == "no_blocklist":
            s.zones = [z for z in s.zones if z["name"] != "Block anonymizers"]
        elif plant == "long_lived_api_token":
            owner = t.urecs[t.super_admins[0]] if t.super_admins else t.urecs[t.owner_index[0]]
            s.api_tokens.append(
                {
                    "name": "Legacy HR sync",
                    "userId": owner.id,
                    "tokenWindow": "P180D",
                    "id": ids("00T"),
                    "clientName": "Okta API",
                    "created": when(700),
                    "lastUpdated": when(700),
                    "expiresAt": when(-170),
                }
            )
    return s


def get_path(doc: dict[str, Any], path: str) -> Any:
    node: Any = doc
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            raise ValueError(f"{path!r}: no {part!r} in the object")
        node = node[part]
    return node


def set_path(doc: dict[str, Any], path: str, value: Any) -> Any:
    """Set ``path`` (dotted, every part but the last must exist) and return the previous value."""
    parts = path.split(".")
    parent = get_path(doc, ".".join(parts[:-1])) if len(parts) > 1 else doc
    if not isinstance(parent, dict) or parts[-1] not in parent:
        raise ValueError(f"{path!r}: the object has no such setting")
    previous = parent[parts[-1]]
    parent[parts[-1]] = value
    return previous
