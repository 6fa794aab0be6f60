"""A Microsoft 365 tenant's security configuration, as Microsoft Graph v1.0 serves it: security
defaults, Conditional Access policies, the authorization policy, the authentication methods policy,
the admin consent request policy and the domains' password expiry, with the live changes an admin
makes to them (``advance({"setting": ...})``) and the directory audit event each change writes.

Shapes, from the v1.0 reference (learn.microsoft.com/graph/api/...):

* ``GET /policies/identitySecurityDefaultsEnforcementPolicy``: ``{id, displayName, description,
  isEnabled}``; Policy.Read.All (identitysecuritydefaultsenforcementpolicy-get).
* ``GET /identity/conditionalAccess/policies``: a collection of conditionalAccessPolicy (``state``
  ``enabled`` / ``disabled`` / ``enabledForReportingButNotEnforced``, ``conditions`` with ``users``,
  ``applications``, ``clientAppTypes``, ``userRiskLevels``, ``signInRiskLevels``; ``grantControls``
  null for a session-only policy, else ``operator``, ``builtInControls``, ``authenticationStrength``);
  Policy.Read.All; needs Microsoft Entra ID P1 (conditionalaccessroot-list-policies,
  conditionalaccesspolicy, conditionalaccessgrantcontrols, authenticationstrengthpolicy). Built-in
  authentication strengths have fixed ids: ...0002 Multifactor authentication, ...0003 Passwordless
  MFA, ...0004 Phishing-resistant MFA (authentication-strengths, "Built-in authentication strengths").
* ``GET /policies/authorizationPolicy``: one authorizationPolicy (``allowInvitesFrom``,
  ``guestUserRoleId``, ``defaultUserRolePermissions`` with ``allowedToCreateApps``,
  ``allowedToCreateTenants``, ``permissionGrantPoliciesAssigned``) (authorizationpolicy-get,
  authorizationpolicy). Guest role ids: a0b1b346-... same as members, 10dae51f-... limited,
  2af84b1e-... restricted (users-restrict-guest-permissions).
* ``GET /policies/authenticationMethodsPolicy``: ``policyMigrationState``, ``registrationEnforcement``
  and ``authenticationMethodConfigurations`` (Sms, Voice, Email, MicrosoftAuthenticator with
  ``featureSettings.displayAppInformationRequiredState`` / ``displayLocationInformationRequiredState``,
  state ``default`` / ``enabled`` / ``disabled``) (authenticationmethodspolicy-get,
  microsoftauthenticatorauthenticationmethodconfiguration, microsoftauthenticatorfeaturesettings).
* ``GET /policies/adminConsentRequestPolicy``: ``isEnabled``, ``notifyReviewers``,
  ``remindersEnabled``, ``requestDurationInDays``, ``reviewers``, ``version``
  (adminconsentrequestpolicy-get).
* ``GET /domains``: ``passwordValidityPeriodInDays`` "If the property isn't set, a default value of
  90 days is used" (domain); 2147483647 is "never expire" (microsoft-365/admin/manage/
  set-password-expiration-policy, "Set password expiration policy" with Update-MgDomain).
* Directory audit activities (monitoring-health/reference-audit-activities): "Update conditional
  access policy" (service Conditional Access), "Update authorization policy" (category
  AuthorizationPolicy, Core Directory), "Authentication Methods Policy Update" (category
  ApplicationManagement, service Authentication Methods), "Update policy" (Policy, Core Directory).

Sandbox choices: each tenant starts from a secure baseline and gets four planted misconfigurations
chosen by its seed (so two tenants differ); report-only and disabled policies, a session-only policy
whose grantControls is null and a Microsoft-managed report-only policy sit next to the real ones.
Microsoft does not document the answer to a Conditional Access listing in a tenant without Entra ID
P1; the sandbox answers the licence error Graph documents for the sign-in log (403
``Authentication_RequestFromNonPremiumTenantOrB2CTenant``).
"""

from __future__ import annotations

import copy
import hashlib
import json
import random
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, model_validator

GLOBAL_ADMIN_TEMPLATE = "62e90394-69f5-4237-9190-012177145e10"
# The highly privileged roles of the CISA SCuBA Entra ID baseline, by roleTemplateId
# (entra/identity/role-based-access-control/permissions-reference).
PRIVILEGED_ROLE_TEMPLATES = (
    GLOBAL_ADMIN_TEMPLATE,  # Global Administrator
    "e8611ab8-c189-46e8-94e1-60213ab1f814",  # Privileged Role Administrator
    "fe930be7-5e62-47db-91af-98c3a49a38b1",  # User Administrator
    "f28a1f50-f6e7-4571-818b-6a12f2af6b6c",  # SharePoint Administrator
    "29232cdf-9323-42fd-ade2-1d097af3e4de",  # Exchange Administrator
    "8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2",  # Hybrid Identity Administrator
    "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",  # Application Administrator
    "158c047a-c907-4556-b7ef-446551a6b5f7",  # Cloud Application Administrator
)
MFA_STRENGTH = ("00000000-0000-0000-0000-000000000002", "Multifactor authentication")
PHISHING_RESISTANT_STRENGTH = ("00000000-0000-0000-0000-000000000004", "Phishing-resistant MFA")
GUEST_SAME_AS_MEMBER = "a0b1b346-4d3e-4e8b-98f8-753987be4970"
GUEST_LIMITED = "10dae51f-b6af-4016-8d66-8c2a99b929b3"
GUEST_RESTRICTED = "2af84b1e-32c8-42b7-82bc-daa82404023b"
NEVER_EXPIRES = 2147483647
# User consent through the built-in app consent policies (manage-app-consent-policies): "legacy" lets
# users consent to any app, "low" to verified publishers' low-risk permissions.
USER_CONSENT_LEGACY = "ManagePermissionGrantsForSelf.microsoft-user-default-legacy"
OWNED_RESOURCE_DEFAULTS = (
    "ManagePermissionGrantsForOwnedResource.microsoft-dynamically-managed-permissions-for-team",
    "ManagePermissionGrantsForOwnedResource.microsoft-dynamically-managed-permissions-for-chat",
)
CA_STATES = ("enabled", "disabled", "enabledForReportingButNotEnforced")

# Misconfigurations a tenant may be planted with (four each, chosen by the seed).
PLANTS = (
    "legacy_auth_report_only",  # the legacy-authentication block left in report-only
    "phishing_resistant_report_only",  # phishing-resistant MFA for everyone still a report-only pilot
    "device_policy_report_only",  # the managed-device requirement still in report-only
    "mfa_or_compliant_device",  # the all-users MFA policy satisfied by a compliant device instead (OR)
    "risk_policies_disabled",  # the high-risk user and sign-in blocks switched off
    "phishing_resistant_admins_missing",  # no phishing-resistant strength for the privileged roles
    "sms_voice_enabled",  # SMS and voice call left enabled
    "authenticator_context_default",  # Authenticator's location context left Microsoft-managed
    "migration_in_progress",  # legacy MFA / SSPR policies still in charge
    "users_register_apps",  # any user may register applications
    "user_consent_any_app",  # users may consent to any app
    "admin_consent_workflow_off",  # no admin consent request workflow
    "password_expiry_default",  # the custom domain's expiry unset: 90 days
    "guests_as_members",  # guests see the directory as members do
    "invites_from_everyone",  # anyone, guests included, may invite guests
    "users_create_tenants",  # any user may create tenants
)


def _uuid(*parts: object) -> str:
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def policy_id(seed: int, name: str) -> str:
    """A Conditional Access policy's id: the one the generated audit history names it with."""
    digest = hashlib.blake2b(f"{seed}:policy:{name}".encode(), digest_size=16).digest()
    return str(uuid.UUID(bytes=digest, version=4))


def _strength(pair: tuple[str, str]) -> dict[str, Any]:
    return {
        "id": pair[0],
        "displayName": pair[1],
        "policyType": "builtIn",
    }


class SettingChange(BaseModel):
    """``advance({"setting": {...}})``: one admin change to a setting (exactly one kind per change)."""

    model_config = ConfigDict(extra="forbid")
    conditional_access_policy: str | None = None
    """A policy's displayName whose ``state`` becomes ``state``."""
    state: Literal["enabled", "disabled", "enabledForReportingButNotEnforced"] | None = None
    authorization_policy: dict[str, Any] | None = None
    """Properties of the authorization policy (``defaultUserRolePermissions`` merged) to set."""
    authentication_method: str | None = None
    """An authentication method configuration id (Sms, Voice, Email, ...) whose state becomes ``method_state``."""
    method_state: Literal["enabled", "disabled"] | None = None
    security_defaults: bool | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> SettingChange:
        kinds = [
            self.conditional_access_policy is not None,
            self.authorization_policy is not None,
            self.authentication_method is not None,
            self.security_defaults is not None,
        ]
        if sum(kinds) != 1:
            raise ValueError(
                "a setting change names exactly one of conditional_access_policy, authorization_policy, "
                "authentication_method, security_defaults"
            )
        if self.conditional_access_policy is not None and self.state is None:
            raise ValueError("conditional_access_policy needs state")
        if self.authentication_method is not None and self.method_state is None:
            raise ValueError("authentication_method needs method_state")
        return self


class TenantPolicies:
    """One tenant's security configuration (deterministic from name and seed) and its live changes."""

    def __init__(self, *, name: str, seed: int, domain: str, initial_domain: str, premium: bool) -> None:
        rng = random.Random(f"m365-policies:{name}:{seed}")
        self.seed = seed
        self.premium = premium
        self.plants: tuple[str, ...] = tuple(sorted(rng.sample(PLANTS, 4)))
        planted = set(self.plants)
        # Security defaults and Conditional Access exclude each other: a tenant using CA has them off.
        self.security_defaults: dict[str, Any] = {
            "id": "00000000-0000-0000-0000-000000000005",
            "displayName": "Security Defaults",
            "description": "Security defaults is a set of basic identity security mechanisms recommended by Microsoft. "
            "When enabled, these recommendations will be automatically enforced in your organization.",
            "isEnabled": not premium,
        }
        breakglass = _uuid(name, seed, "breakglass")
        self.conditional_access = self._conditional_access(rng, planted, breakglass) if premium else []
        self.authorization_policy: dict[str, Any] = {
            "id": "authorizationPolicy",
            "displayName": "Authorization Policy",
            "description": "Used to manage authorization related settings across the company.",
            "allowInvitesFrom": "everyone" if "invites_from_everyone" in planted else "adminsAndGuestInviters",
            "allowedToSignUpEmailBasedSubscriptions": True,
            "allowedToUseSSPR": True,
            "allowEmailVerifiedUsersToJoinOrganization": False,
            "allowUserConsentForRiskyApps": None,
            "blockMsolPowerShell": False,
            "guestUserRoleId": GUEST_SAME_AS_MEMBER if "guests_as_members" in planted else GUEST_LIMITED,
            "defaultUserRolePermissions": {
                "allowedToCreateApps": "users_register_apps" in planted,
                "allowedToCreateSecurityGroups": True,
                "allowedToCreateTenants": "users_create_tenants" in planted,
                "allowedToReadBitlockerKeysForOwnedDevice": True,
                "allowedToReadOtherUsers": True,
                "permissionGrantPoliciesAssigned": ([USER_CONSENT_LEGACY] if "user_consent_any_app" in planted else [])
                + list(OWNED_RESOURCE_DEFAULTS),
            },
        }
        self.authentication_methods = self._authentication_methods(planted)
        self.admin_consent: dict[str, Any] = {
            "id": None,  # Graph returns the singleton without an id
            "isEnabled": "admin_consent_workflow_off" not in planted,
            "notifyReviewers": "admin_consent_workflow_off" not in planted,
            "remindersEnabled": "admin_consent_workflow_off" not in planted,
            "requestDurationInDays": 30 if "admin_consent_workflow_off" not in planted else 0,
            "version": 2,
            "reviewers": []
            if "admin_consent_workflow_off" in planted
            else [
                {
                    "query": f"/groups/{_uuid(name, seed, 'reviewers')}/transitiveMembers/microsoft.graph.user",
                    "queryType": "MicrosoftGraph",
                    "queryRoot": None,
                }
            ],
        }
        custom_expiry = None if "password_expiry_default" in planted else NEVER_EXPIRES
        self.domains = [
            self._domain(domain, default=True, initial=False, verified=True, validity=custom_expiry),
            self._domain(initial_domain, default=False, initial=True, verified=True, validity=NEVER_EXPIRES),
            # An unverified domain: Graph lists it, its expiry unset; it signs nobody in, so it never counts.
            self._domain(f"{name}-mail.example.net", default=False, initial=False, verified=False, validity=None),
        ]

    # ---------------------------------------------------------------- generation

    def _conditional_access(self, rng: random.Random, planted: set[str], breakglass: str) -> list[dict[str, Any]]:
        all_users = {
            "includeUsers": ["All"],
            "excludeUsers": [breakglass],
            "includeGroups": [],
            "excludeGroups": [],
            "includeRoles": [],
            "excludeRoles": [],
        }
        admins = {
            "includeUsers": [],
            "excludeUsers": [breakglass],
            "includeGroups": [],
            "excludeGroups": [],
            "includeRoles": list(PRIVILEGED_ROLE_TEMPLATES),
            "excludeRoles": [],
        }
        policies = [
            self._policy(
                "Block legacy authentication",
                "enabledForReportingButNotEnforced" if "legacy_auth_report_only" in planted else "enabled",
                all_users,
                client_apps=["exchangeActiveSync", "other"],
                grant=("OR", ["block"], None),
            ),
            self._policy(
                "Require MFA for all users",
                "enabled",
                all_users,
                grant=("OR", ["mfa", "compliantDevice"], None)
                if "mfa_or_compliant_device" in planted
                else ("OR", ["mfa"], None),
            ),
            self._policy(
                "Require MFA for admins",
                "enabled",
                admins,
                grant=("AND", [], None)
                if "phishing_resistant_admins_missing" in planted
                else ("AND", [], PHISHING_RESISTANT_STRENGTH),
                strength_fallback=MFA_STRENGTH if "phishing_resistant_admins_missing" in planted else None,
            ),
            self._policy(
                "Block high-risk users",
                "disabled" if "risk_policies_disabled" in planted else "enabled",
                all_users,
                user_risk=["high"],
                grant=("OR", ["block"], None),
            ),
            self._policy(
                "Block high-risk sign-ins",
                "disabled" if "risk_policies_disabled" in planted else "enabled",
                all_users,
                sign_in_risk=["high"],
                grant=("OR", ["block"], None),
            ),
            self._policy(
                "Require compliant or hybrid joined device",
                "enabledForReportingButNotEnforced" if "device_policy_report_only" in planted else "enabled",
                all_users,
                grant=("OR", ["compliantDevice", "domainJoinedDevice"], None),
            ),
            # An older, narrower policy an admin switched off: disabled policies never count.
            self._policy(
                "Require compliant device for Finance",
                "disabled",
                {**all_users, "includeUsers": [], "includeGroups": [_uuid(self.seed, "finance")]},
                grant=("OR", ["compliantDevice"], None),
            ),
            self._policy(
                "Require phishing-resistant MFA for all users",
                "enabledForReportingButNotEnforced" if "phishing_resistant_report_only" in planted else "enabled",
                all_users,
                grant=("AND", [], PHISHING_RESISTANT_STRENGTH),
            ),
            # Session controls only: grantControls is null.
            self._policy("Sign-in frequency for unmanaged devices", "enabled", all_users, grant=None),
            # Microsoft-managed policies arrive in report-only (managed-policies).
            self._policy(
                "Microsoft-managed: Multifactor authentication for admins accessing Microsoft Admin Portals",
                "enabledForReportingButNotEnforced",
                admins,
                grant=("OR", ["mfa"], None),
                apps=["MicrosoftAdminPortals"],
            ),
        ]
        order = list(range(len(policies)))
        rng.shuffle(order)  # Graph lists policies in no documented order
        return [policies[i] for i in order]

    def _policy(
        self,
        name: str,
        state: str,
        users: dict[str, Any],
        *,
        grant: tuple[str, list[str], tuple[str, str] | None] | None,
        client_apps: list[str] | None = None,
        user_risk: list[str] | None = None,
        sign_in_risk: list[str] | None = None,
        apps: list[str] | None = None,
        strength_fallback: tuple[str, str] | None = None,
    ) -> dict[str, Any]:
        grant_controls = None
        if grant is not None:
            operator, controls, strength = grant
            strength = strength or strength_fallback
            grant_controls = {
                "operator": operator,
                "builtInControls": controls,
                "customAuthenticationFactors": [],
                "termsOfUse": [],
                "authenticationStrength": _strength(strength) if strength else None,
            }
        created = "2024-03-11T09:15:22.5013495Z"
        return {
            "id": policy_id(self.seed, name),
            "templateId": None,
            "displayName": name,
            "createdDateTime": created,
            "modifiedDateTime": None,
            "state": state,
            "sessionControls": None
            if grant is not None
            else {
                "signInFrequency": {
                    "value": 4,
                    "type": "hours",
                    "authenticationType": "primaryAndSecondaryAuthentication",
                    "frequencyInterval": "timeBased",
                    "isEnabled": True,
                },
            },
            "conditions": {
                "userRiskLevels": user_risk or [],
                "signInRiskLevels": sign_in_risk or [],
                "clientAppTypes": client_apps or ["all"],
                "platforms": None,
                "locations": None,
                "applications": {
                    "includeApplications": apps or ["All"],
                    "excludeApplications": [],
                    "includeUserActions": [],
                },
                "users": users,
            },
            "grantControls": grant_controls,
        }

    @staticmethod
    def _authentication_methods(planted: set[str]) -> dict[str, Any]:
        weak = "enabled" if "sms_voice_enabled" in planted else "disabled"
        target = [{"targetType": "group", "id": "all_users", "isRegistrationRequired": False}]
        feature = {
            "includeTarget": {"targetType": "group", "id": "all_users"},
            "excludeTarget": {"targetType": "group", "id": "00000000-0000-0000-0000-000000000000"},
        }
        location = "default" if "authenticator_context_default" in planted else "enabled"
        odata = "#microsoft.graph.{}AuthenticationMethodConfiguration"
        return {
            "id": "authenticationMethodsPolicy",
            "displayName": "Authentication Methods Policy",
            "description": "The tenant-wide policy that controls which authentication methods are allowed in the "
            "tenant, authentication method registration requirements, and self-service password reset settings",
            "lastModifiedDateTime": "2024-05-02T14:12:08.1178461Z",
            "policyVersion": "1.5",
            "policyMigrationState": "migrationInProgress"
            if "migration_in_progress" in planted
            else "migrationComplete",
            "registrationEnforcement": {
                "authenticationMethodsRegistrationCampaign": {
                    "snoozeDurationInDays": 1,
                    "state": "default",
                    "excludeTargets": [],
                    "includeTargets": [
                        {
                            "id": "all_users",
                            "targetType": "group",
                            "targetedAuthenticationMethod": "microsoftAuthenticator",
                        }
                    ],
                }
            },
            "authenticationMethodConfigurations": [
                {
                    "@odata.type": odata.format("fido2"),
                    "id": "Fido2",
                    "state": "enabled",
                    "excludeTargets": [],
                    "isSelfServiceRegistrationAllowed": True,
                    "isAttestationEnforced": True,
                },
                {
                    "@odata.type": odata.format("microsoftAuthenticator"),
                    "id": "MicrosoftAuthenticator",
                    "state": "enabled",
                    "excludeTargets": [],
                    "isSoftwareOathEnabled": False,
                    "featureSettings": {
                        "displayAppInformationRequiredState": {**feature, "state": "enabled"},
                        "displayLocationInformationRequiredState": {**feature, "state": location},
                    },
                    "includeTargets": target,
                },
                {
                    "@odata.type": odata.format("sms"),
                    "id": "Sms",
                    "state": weak,
                    "excludeTargets": [],
                    "includeTargets": target,
                },
                {
                    "@odata.type": odata.format("voice"),
                    "id": "Voice",
                    "state": weak,
                    "excludeTargets": [],
                    "isOfficePhoneAllowed": False,
                },
                {
                    "@odata.type": odata.format("email"),
                    "id": "Email",
                    "state": "disabled",
                    "excludeTargets": [],
                    "allowExternalIdToUseEmailOtp": "default",
                },
                {
                    "@odata.type": odata.format("temporaryAccessPass"),
                    "id": "TemporaryAccessPass",
                    "state": "enabled",
                    "excludeTargets": [],
                    "defaultLifetimeInMinutes": 60,
                    "isUsableOnce": True,
                },
            ],
        }

    @staticmethod
    def _domain(name: str, *, default: bool, initial: bool, verified: bool, validity: int | None) -> dict[str, Any]:
        return {
            "id": name,
            "authenticationType": "Managed",
            "availabilityStatus": None,
            "isAdminManaged": True,
            "isDefault": default,
            "isInitial": initial,
            "isRoot": verified,
            "isVerified": verified,
            "passwordNotificationWindowInDays": 14 if validity is not None else None,
            "passwordValidityPeriodInDays": validity,
            "state": None,
            "supportedServices": ["Email", "OfficeCommunicationsOnline"] if verified else [],
        }

    # ---------------------------------------------------------------- views

    def ground_truth(self) -> dict[str, Any]:
        """Every setting as Graph serves it, for an oracle to compute the rules from."""
        return copy.deepcopy(
            {
                "plants": list(self.plants),
                "premium": self.premium,
                "security_defaults": self.security_defaults,
                "conditional_access_policies": self.conditional_access,
                "authorization_policy": self.authorization_policy,
                "authentication_methods_policy": self.authentication_methods,
                "admin_consent_request_policy": self.admin_consent,
                "domains": self.domains,
            }
        )

    # ---------------------------------------------------------------- live changes

    def apply(self, change: SettingChange) -> dict[str, Any]:
        """Make the change; returns the directory audit event's fields (without initiator and time)."""
        if change.conditional_access_policy is not None:
            policy = next(
                (p for p in self.conditional_access if p["displayName"] == change.conditional_access_policy), None
            )
            if policy is None:
                raise ValueError(f"no Conditional Access policy named {change.conditional_access_policy!r}")
            old = {"state": policy["state"]}
            policy["state"] = change.state
            return _event(
                "Policy",
                "Update conditional access policy",
                "Update",
                "Conditional Access",
                policy["id"],
                policy["displayName"],
                "ConditionalAccessPolicy",
                old,
                {"state": change.state},
            )
        if change.authorization_policy is not None:
            policy = self.authorization_policy
            old, new = {}, {}
            for key, value in change.authorization_policy.items():
                if key == "defaultUserRolePermissions":
                    old[key] = dict(policy[key])
                    policy[key] = {**policy[key], **value}
                    new[key] = policy[key]
                elif key in policy:
                    old[key], new[key] = policy[key], value
                    policy[key] = value
                else:
                    raise ValueError(f"the authorization policy has no property {key!r}")
            return _event(
                "AuthorizationPolicy",
                "Update authorization policy",
                "Update",
                "Core Directory",
                policy["id"],
                policy["displayName"],
                "AuthorizationPolicy",
                old,
                new,
            )
        if change.authentication_method is not None:
            configs = self.authentication_methods["authenticationMethodConfigurations"]
            config = next((c for c in configs if c["id"] == change.authentication_method), None)
            if config is None:
                raise ValueError(f"no authentication method configuration {change.authentication_method!r}")
            old = {"state": config["state"]}
            config["state"] = change.method_state
            return _event(
                "ApplicationManagement",
                "Authentication Methods Policy Update",
                "Update",
                "Authentication Methods",
                self.authentication_methods["id"],
                config["id"],
                "AuthenticationMethodsPolicy",
                old,
                {"state": change.method_state},
            )
        old = {"isEnabled": self.security_defaults["isEnabled"]}
        self.security_defaults["isEnabled"] = bool(change.security_defaults)
        return _event(
            "Policy",
            "Update policy",
            "Update",
            "Core Directory",
            self.security_defaults["id"],
            self.security_defaults["displayName"],
            "Policy",
            old,
            {"isEnabled": change.security_defaults},
        )


def _event(
    category: str,
    activity: str,
    operation: str,
    service: str,
    target_id: str,
    target_name: str,
    prop: str,
    old: dict[str, Any],
    new: dict[str, Any],
) -> dict[str, Any]:
    return {
        "category": category,
        "result": "success",
        "resultReason": "",
        "activityDisplayName": activity,
        "loggedByService": service,
        "operationType": operation,
        "targetResources": [
            {
                "id": target_id,
                "displayName": target_name,
                "type": "Policy",
                "userPrincipalName": None,
                "groupType": None,
                "modifiedProperties": [
                    {"displayName": prop, "oldValue": json.dumps(old), "newValue": json.dumps(new)},
                ],
            }
        ],
        "additionalDetails": [],
    }
