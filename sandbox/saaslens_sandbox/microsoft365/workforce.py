"""The shared workforce's accounts in Microsoft 365 (``saaslens_sandbox.workforce``).

A leaver disabled in Entra ID (``accountEnabled: false``) holding a delegated grant, a dormant
account, a B2B guest, OneDrive files shared publicly and with an outside address, a broad grant.
"""

from __future__ import annotations

from collections.abc import Mapping

from saaslens_sandbox.workforce import Person, PlannedAccount, employees


def plan(p: Mapping[str, Person]) -> tuple[PlannedAccount, ...]:
    """Who of the workforce (by slot) has an account in Microsoft 365, and in which state."""
    A = PlannedAccount
    staff = employees(p)
    return (
        A(p["leaver_deprovisioned"]),
        A(p["leaver_suspended"]),
        A(p["leaver_entra"], "suspended", grant_scopes=("User.Read", "Calendars.Read", "Mail.Read", "offline_access")),
        A(p["dormant_entra"], last_login_days=130),
        A(p["admin_everywhere"], admin=True),
        A(p["file_sharer"], files=("public", "external")),
        A(p["broad_grants"], grant_scopes=("User.Read", "Files.ReadWrite.All", "offline_access")),
        A(p["guest_partner"], guest=True),
        *(A(e) for e in staff[:8]),
    )
