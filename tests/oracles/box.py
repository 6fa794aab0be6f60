"""Box's ground truth as facts: users, files with their exposure, FAILED_LOGIN events.

Box has no workforce plan in the sandbox (``WORKFORCE = False``): its tenants take part in the
file and content tests, not in the cross-app findings of tests/e2e/test_findings.py."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tests.oracles.facts import AccountFact, Facts, FailureFact, FileFact, lower, parse_time

IDENTITY_PROVIDER = False
REPORTS_LAST_LOGIN = False
"""User--Full has no last sign-in; LOGIN events carry it."""
REPORTS_MFA = False
"""Box lists an exemption from login verification, not whether a user enrolled."""
WORKFORCE = False
PLATFORM_DOMAIN = "@boxdevedition.com"
# https://developer.box.com/guides/shared-links/create-or-update/ : open, company, collaborators
LINK = {"open": ("anyone", "public"), "company": ("domain", "internal"), "collaborators": ("link", "private")}
ORDER = ("private", "internal", "external", "public")


def _domains(truth: Mapping[str, Any]) -> set[str]:
    return {
        u["login"].lower().rsplit("@", 1)[1]
        for u in truth["users"]
        if "@" in u["login"] and not u["login"].lower().endswith(PLATFORM_DOMAIN)
    }


def _external(collaboration: Mapping[str, Any], user_ids: set[str], domains: set[str]) -> bool:
    grantee = collaboration.get("accessible_by") or {}
    if grantee.get("type") == "group" or grantee.get("id") in user_ids:
        return False
    address = (grantee.get("login") or collaboration.get("invite_email") or "").lower()
    return address.rsplit("@", 1)[-1] not in domains


def expected_shares(truth: Mapping[str, Any]) -> dict[str, set[tuple[Any, ...]]]:
    """file id -> {(share_id, principal_type, principal_id, principal_email, role, is_external)}: the
    file's shared link, its collaborations and those of the folders above it (their collaborators
    reach it), rejected invitations left out."""
    user_ids = {u["id"] for u in truth["users"]}
    domains = _domains(truth)
    folders = {f["id"]: f for f in truth["folders"]}
    by_item: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for collaboration in truth["collaborations"]:
        item = collaboration["item"]
        by_item.setdefault((item["type"], item["id"]), []).append(collaboration)
    shares: dict[str, set[tuple[Any, ...]]] = {}
    for file in truth["files"]:
        found: set[tuple[Any, ...]] = set()
        places = [("file", file, "shared_link")] + [
            ("folder", folders[e["id"]], f"shared_link:{e['id']}")
            for e in file["path_collection"]["entries"]
            if e["id"] in folders
        ]
        for kind, item, link_id in places:
            link = item.get("shared_link")
            if link:
                principal, _ = LINK[link["effective_access"]]
                role = "writer" if link["permissions"].get("can_edit") else "reader"
                found.add((link_id, principal, None, None, role, link["effective_access"] == "open"))
            for c in by_item.get((kind, item["id"]), []):
                if c["status"] == "rejected":
                    continue
                grantee = c.get("accessible_by") or {}
                email = lower(grantee.get("login") or c.get("invite_email"))
                principal = "group" if grantee.get("type") == "group" else "user"
                found.add((c["id"], principal, grantee.get("id"), email, c["role"], _external(c, user_ids, domains)))
        shares[file["id"]] = found
    return shares


def visibility(shares: set[tuple[Any, ...]]) -> str:
    levels = {"private"}
    for _, principal, _, _, _, external in shares:
        if principal == "anyone":
            levels.add("public")
        elif external:
            levels.add("external")
        elif principal == "domain":
            levels.add("internal")
    return max(levels, key=ORDER.index)


# https://developer.box.com/reference/resources/user--full/ (status, role, is_platform_access_only);
# https://developer.box.com/guides/events/enterprise-events/for-enterprise/ (FAILED_LOGIN).
def collect(truth: Mapping[str, Any], app: str, instance: str, out: Facts, **options: Any) -> None:
    for user in truth["users"]:
        status = "suspended" if user["status"] == "inactive" else "active"
        service = user.get("is_platform_access_only") or user["login"].lower().endswith(PLATFORM_DOMAIN)
        admin = user.get("role") in ("admin", "coadmin")
        created = parse_time(user.get("created_at"))
        kind = "service" if service else "member"
        out.accounts.append(
            AccountFact(app, instance, user["id"], lower(user["login"]), status, admin, None, kind, created, None)
        )
    owners = {f["id"]: f["owned_by"]["id"] for f in truth["files"]}
    for file_id, shares in expected_shares(truth).items():
        out.files.append(FileFact(app, instance, file_id, owners[file_id], visibility(shares)))
    for event in truth["events"]:
        if event["event_type"] != "FAILED_LOGIN":
            continue
        source = event.get("source") or {}
        ip = event.get("ip_address")
        subject = source.get("login") or (event.get("created_by") or {}).get("login")
        out.failures.append(
            FailureFact(app, instance, parse_time(event["created_at"]), subject, None if ip == "Unknown IP" else ip)
        )
