"""GitHub's ground truth as facts: org members and collaborators, installations, audit log."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tests.oracles.facts import AccountFact, Facts, FailureFact, GrantFact, lower, parse_time

IDENTITY_PROVIDER = False
"""Its accounts say who still works here: an inactive account makes the person's others orphaned."""
REPORTS_LAST_LOGIN = False
"""Its account listings say when an account last signed in."""
REPORTS_MFA = True
"""Its account listings say whether an account uses MFA."""

# GitHub (org members / outside collaborators, installations, credential authorizations,
# audit log). https://docs.github.com/enterprise-cloud@latest/rest/orgs/members : role admin is an
# owner; filter=2fa_disabled lists members without 2FA. Outside collaborators are not members.
_GITHUB_LOGON = frozenset(
    {
        "org.sso_response",
        "business.sso_response",
        "user.login",
        "user.logout",
        "user.failed_login",
        "org.recovery_code_used",
        "org.recovery_code_failed",
    }
)


def collect(truth: Mapping[str, Any], app: str, instance: str, out: Facts, **_options: Any) -> None:
    ids_by_login = {}
    for user in truth["users"]:
        ids_by_login[user["login"].lower()] = str(user["id"])
        kind = "external" if user["role"] == "outside_collaborator" else "member"
        mfa = user["two_factor"] != "disabled"
        out.accounts.append(
            AccountFact(
                app, instance, str(user["id"]), lower(user.get("email")), "active", user["role"] == "admin", mfa,
                kind, None, None,
            )
        )  # fmt: skip
    for installation in truth.get("installations") or []:
        scopes = tuple(sorted(f"{k}:{v}" for k, v in (installation.get("permissions") or {}).items()))
        out.grants.append(GrantFact(app, instance, f"installation:{installation['id']}", None, scopes))
    for credential in truth.get("credential_authorizations") or []:
        account = ids_by_login.get(str(credential.get("login") or "").lower())
        grant_id = f"credential-authorization:{credential['credential_id']}"
        out.grants.append(GrantFact(app, instance, grant_id, account, tuple(credential.get("scopes") or ())))
    for event in truth.get("audit_events") or []:
        action = str(event.get("action") or "")
        if action not in _GITHUB_LOGON:
            continue
        declared = str(event.get("outcome") or "").lower()
        failed = declared == "failure" or (declared != "success" and ("_failed" in action or "failed_login" in action))
        if not failed:
            continue
        subject = event.get("user") or event.get("actor")  # the account: the user acted on, else the actor
        ip = event.get("actor_ip") or (event.get("actor_location") or {}).get("ip")
        # https://docs.github.com/enterprise-cloud@latest/rest/orgs/orgs#get-the-audit-log-for-an-organization :
        # @timestamp and created_at are milliseconds since the epoch.
        when = parse_time(event.get("@timestamp") or event.get("created_at"), epoch_ms=True)
        out.failures.append(FailureFact(app, instance, when, subject, ip))
