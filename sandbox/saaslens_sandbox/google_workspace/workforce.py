"""The shared workforce's accounts in Google Workspace (``saaslens_sandbox.workforce``).

A leaver suspended here holding a broad token, a dormant account, a super admin without 2-step
verification, and files shared publicly and with an outside address.
"""

from __future__ import annotations

from collections.abc import Mapping

from saaslens_sandbox.workforce import Person, PlannedAccount, employees


def plan(p: Mapping[str, Person]) -> tuple[PlannedAccount, ...]:
    """Who of the workforce (by slot) has an account in Google Workspace, and in which state."""
    A = PlannedAccount
    staff = employees(p)
    return (
        A(p["leaver_deprovisioned"]),
        A(
            p["leaver_google"],
            "suspended",
            grant_scopes=("https://www.googleapis.com/auth/userinfo.profile", "https://mail.google.com/"),
        ),
        A(p["dormant_google"], last_login_days=200),
        A(p["admin_everywhere"], admin=True),
        A(p["admin_google_no_2sv"], admin=True, mfa=False),
        A(p["file_sharer"], files=("public", "external")),
        A(p["broad_grants"], grant_scopes=("https://mail.google.com/", "https://www.googleapis.com/auth/drive")),
        A(p["spiked"]),
        *(A(e) for e in staff[:8]),
    )
