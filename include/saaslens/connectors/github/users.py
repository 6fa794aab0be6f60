"""The users stage: organization owners and members with their role, then outside collaborators,
with their 2FA state where the token may read it.

With Enterprise Managed Users (the instance names its enterprise and the token may read its SCIM
identities), a managed member without an active SCIM identity is suspended (transform.managed_status).

Members (``role``, ``filter=2fa_disabled`` for organization owners only) and outside collaborators:
https://docs.github.com/enterprise-cloud@latest/rest/orgs/members ,
https://docs.github.com/enterprise-cloud@latest/rest/orgs/outside-collaborators
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from saaslens.connectors.github import transform
from saaslens.connectors.github.connector import MEMBERS_READ, ORG, GitHubConnector
from saaslens.connectors.github.emu import ScimPaginator, checked_resource, normalize_username
from saaslens.connectors.kit import JSON, Batch, Probe, Row, SnapshotStage
from saaslens.http import ApiError, FeatureUnavailableError, NotFoundError, PermissionDeniedError
from saaslens.vocabulary import Stage


def without_2fa(connector: GitHubConnector, path: str) -> set[int] | None:
    """Ids listed by ``filter=2fa_disabled``; None when the token may not use the filter."""
    if not connector.options.mfa_status:
        return None
    try:
        return {user["id"] for page in connector.listing(path, {"filter": "2fa_disabled"}) for user in page}
    except (PermissionDeniedError, FeatureUnavailableError):
        return None
    except ApiError as exc:
        if exc.status == 422:  # only organization owners can use the filter
            return None
        raise


def active_managed_names(connector: GitHubConnector) -> frozenset[str] | None:
    """The normalized usernames (lower case) of the enterprise's active SCIM identities, for an
    instance naming its enterprise; None when it names none, the enterprise does not use managed
    users, or the scan's token may not read them (admin:enterprise or scim:enterprise of an
    enterprise owner). https://docs.github.com/enterprise-cloud@latest/rest/enterprise-admin/scim#list-scim-provisioned-identities-for-an-enterprise"""
    if not connector.options.enterprise:
        return None
    names = set()
    try:
        for page in connector.client.paginate(connector.scim_users_path(), ScimPaginator()):
            for resource in page.items:
                identity = checked_resource(resource)
                if identity["active"]:
                    names.add(normalize_username(identity["userName"]).lower())
    except (PermissionDeniedError, FeatureUnavailableError, NotFoundError):
        return None
    except ValueError as exc:
        raise ApiError(f"the enterprise SCIM listing: {exc}", status=200) from None
    return frozenset(names)


def scan_users(connector: GitHubConnector, resume: JSON | None) -> Iterator[Batch]:
    members_path, collaborators_path = connector.org_path("/members"), connector.org_path("/outside_collaborators")
    members_without_2fa = without_2fa(connector, members_path)
    collaborators_without_2fa = without_2fa(connector, collaborators_path)
    active_names = active_managed_names(connector)
    seen: set[int] = set()
    # (path, filter, role written, ids without 2FA)
    listings: tuple[tuple[str, dict[str, Any], str, set[int] | None], ...] = (
        (members_path, {"role": "admin"}, "admin", members_without_2fa),
        (members_path, {"role": "member"}, "member", members_without_2fa),
        (collaborators_path, {}, "outside_collaborator", collaborators_without_2fa),
    )
    for path, params, role, missing_2fa in listings:
        for page in connector.listing(path, params):
            rows: list[Row] = []
            for user in page:
                # Lists can shift while a scan pages through them; keep the first listing.
                if user["id"] in seen:
                    continue
                seen.add(user["id"])
                mfa = None if missing_2fa is None else user["id"] not in missing_2fa
                rows.append(transform.managed_status(transform.account_row(user, role, mfa), active_names))
            yield Batch("accounts", rows)


STAGE = SnapshotStage(
    stage=Stage.USERS,
    scan=scan_users,
    permission=f"{MEMBERS_READ}; owner for 2FA state",
    probe=Probe(f"{ORG}/members", {"per_page": 1}),
)
