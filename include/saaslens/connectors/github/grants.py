"""The app_permissions stage: GitHub Apps installed in the organization, and the credentials (personal
access tokens, SSH keys, OAuth and GitHub App user tokens) members authorized for SAML single sign-on.

Installed apps and SAML SSO credential authorizations (organization owners only; the latter on
Enterprise Cloud with SAML SSO):
https://docs.github.com/enterprise-cloud@latest/rest/orgs/orgs#list-app-installations-for-an-organization ,
https://docs.github.com/enterprise-cloud@latest/rest/orgs/orgs#list-saml-sso-authorizations-for-an-organization
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime

from saaslens.connectors.github import transform
from saaslens.connectors.github.connector import ORG, GitHubConnector
from saaslens.connectors.kit import JSON, Batch, Probe, Row, SnapshotStage
from saaslens.http import FeatureUnavailableError, PermissionDeniedError
from saaslens.http.redaction import redact
from saaslens.vocabulary import Stage

log = logging.getLogger(__name__)


def account_ids(connector: GitHubConnector) -> dict[str, str]:
    """Login (lower case) -> account id, for members and outside collaborators: credential
    authorizations name their owner by login only."""
    ids: dict[str, str] = {}
    for path in (connector.org_path("/members"), connector.org_path("/outside_collaborators")):
        for page in connector.listing(path):
            ids.update({str(user["login"]).lower(): str(user["id"]) for user in page})
    return ids


def credential_authorizations(connector: GitHubConnector) -> list[Row]:
    try:
        return [c for page in connector.listing(connector.org_path("/credential-authorizations")) for c in page]
    except (PermissionDeniedError, FeatureUnavailableError) as exc:
        log.warning("%s: credential authorizations skipped: %s", connector.org, redact(str(exc)))
        return []


def scan_app_permissions(connector: GitHubConnector, resume: JSON | None) -> Iterator[Batch]:
    for page in connector.listing(connector.org_path("/installations"), items_path="installations"):
        yield Batch("app_permissions", [transform.installation_row(installation) for installation in page])
    authorizations = credential_authorizations(connector)
    if authorizations:
        ids, now = account_ids(connector), datetime.now(UTC)
        yield Batch("app_permissions", [transform.credential_row(a, ids, now) for a in authorizations])


STAGE = SnapshotStage(
    stage=Stage.APP_PERMISSIONS,
    scan=scan_app_permissions,
    permission="organization owner with read:org, or Administration: read (GitHub App)",
    probe=Probe(f"{ORG}/installations", {"per_page": 1}),
)
