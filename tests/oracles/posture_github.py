"""GitHub's posture rules (include/posture/github/) computed in Python from the sandbox's ground truth
(``truth["settings"]`` and the users), independently of the rules' SQL: each function answers
"pass", "fail" or "not_evaluated" for one rule."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

PASS, FAIL, NOT_EVALUATED = "pass", "fail", "not_evaluated"

Truth = Mapping[str, Any]


def _verdict(ok: bool | None) -> str:
    return NOT_EVALUATED if ok is None else PASS if ok else FAIL


def _org(truth: Truth, field: str) -> Any:
    return truth["settings"]["organization"].get(field)


def _is(truth: Truth, field: str, wanted: bool) -> str:
    value = _org(truth, field)
    return _verdict(None if value is None else value is wanted)


def two_factor_required(truth: Truth) -> str:
    return _is(truth, "two_factor_requirement_enabled", True)


def members_without_2fa(truth: Truth) -> str:
    return _verdict(not any(u["role"] in ("admin", "member") and u["two_factor"] == "disabled" for u in truth["users"]))


def outside_collaborators_without_2fa(truth: Truth) -> str:
    return _verdict(
        not any(u["role"] == "outside_collaborator" and u["two_factor"] == "disabled" for u in truth["users"])
    )


def base_permission_strict(truth: Truth) -> str:
    value = _org(truth, "default_repository_permission")
    return _verdict(None if value is None else value in ("read", "none"))


def public_repository_creation_restricted(truth: Truth) -> str:
    return _is(truth, "members_can_create_public_repositories", False)


def private_forking_disabled(truth: Truth) -> str:
    return _is(truth, "members_can_fork_private_repositories", False)


def public_pages_restricted(truth: Truth) -> str:
    return _is(truth, "members_can_create_public_pages", False)


def outside_collaborator_invites_restricted(truth: Truth) -> str:
    return _is(truth, "members_can_invite_outside_collaborators", False)


def web_commit_signoff_required(truth: Truth) -> str:
    return _is(truth, "web_commit_signoff_required", True)


def secret_scanning_new_repositories(truth: Truth) -> str:
    return _is(truth, "secret_scanning_enabled_for_new_repositories", True)


def push_protection_new_repositories(truth: Truth) -> str:
    return _is(truth, "secret_scanning_push_protection_enabled_for_new_repositories", True)


def dependabot_alerts_new_repositories(truth: Truth) -> str:
    return _is(truth, "dependabot_alerts_enabled_for_new_repositories", True)


def actions_allowed_actions_restricted(truth: Truth) -> str:
    actions = truth["settings"]["actions_permissions"]
    if actions.get("enabled_repositories") == "none":
        return PASS
    return _verdict(actions.get("allowed_actions") in ("local_only", "selected"))


def actions_sha_pinning_required(truth: Truth) -> str:
    value = truth["settings"]["actions_permissions"].get("sha_pinning_required")
    return _verdict(None if value is None else value is True)


def workflow_token_read_only(truth: Truth) -> str:
    return _verdict(truth["settings"]["actions_workflow_permissions"]["default_workflow_permissions"] == "read")


def actions_cannot_approve_pull_requests(truth: Truth) -> str:
    return _verdict(truth["settings"]["actions_workflow_permissions"]["can_approve_pull_request_reviews"] is False)


def _active_hooks(truth: Truth) -> list[Mapping[str, Any]]:
    # An inactive hook delivers nothing: it cannot leak or be spoofed, whatever its configuration.
    return [h for h in truth["settings"]["webhooks"] if h["active"]]


def webhooks_use_https(truth: Truth) -> str:
    return _verdict(all(h["url"].lower().startswith("https://") for h in _active_hooks(truth)))


def webhooks_verify_tls(truth: Truth) -> str:
    return _verdict(all(h["insecure_ssl"] != "1" for h in _active_hooks(truth)))


def webhooks_have_secret(truth: Truth) -> str:
    return _verdict(all(h["has_secret"] for h in _active_hooks(truth)))


def owner_count(truth: Truth) -> str:
    owners = sum(1 for u in truth["users"] if u["role"] == "admin")
    return _verdict(2 <= owners <= 5)


def saml_sso_configured(truth: Truth) -> str:
    # The sandbox serves credential authorizations for an Enterprise Cloud organization with SAML
    # SSO; off Enterprise Cloud the feature is not licensed.
    if truth["org"]["plan"] != "enterprise":
        return NOT_EVALUATED
    return _verdict(bool(truth["settings"]["saml_sso"]))


def saml_sso_required(truth: Truth) -> str:
    return NOT_EVALUATED  # no REST response says whether SAML SSO is required


RULES: dict[str, Callable[[Truth], str]] = {
    f"github.{name}": rule
    for name, rule in {
        "two_factor_required": two_factor_required,
        "members_without_2fa": members_without_2fa,
        "outside_collaborators_without_2fa": outside_collaborators_without_2fa,
        "base_permission_strict": base_permission_strict,
        "public_repository_creation_restricted": public_repository_creation_restricted,
        "private_forking_disabled": private_forking_disabled,
        "public_pages_restricted": public_pages_restricted,
        "outside_collaborator_invites_restricted": outside_collaborator_invites_restricted,
        "web_commit_signoff_required": web_commit_signoff_required,
        "secret_scanning_new_repositories": secret_scanning_new_repositories,
        "push_protection_new_repositories": push_protection_new_repositories,
        "dependabot_alerts_new_repositories": dependabot_alerts_new_repositories,
        "actions_allowed_actions_restricted": actions_allowed_actions_restricted,
        "actions_sha_pinning_required": actions_sha_pinning_required,
        "workflow_token_read_only": workflow_token_read_only,
        "actions_cannot_approve_pull_requests": actions_cannot_approve_pull_requests,
        "webhooks_use_https": webhooks_use_https,
        "webhooks_verify_tls": webhooks_verify_tls,
        "webhooks_have_secret": webhooks_have_secret,
        "owner_count": owner_count,
        "saml_sso_configured": saml_sso_configured,
        "saml_sso_required": saml_sso_required,
    }.items()
}


def posture(truth: Truth) -> dict[str, str]:
    """{rule id: pass | fail | not_evaluated} for a tenant read with credentials that may read every
    setting (an owner's admin:org + admin:org_hook token)."""
    return {rule_id: rule(truth) for rule_id, rule in RULES.items()}
