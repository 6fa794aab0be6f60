"""The shared workforce's accounts in GitHub (``saaslens_sandbox.workforce``).

A leaver still a member, an owner without 2FA (``filter=2fa_disabled``), an outside collaborator.
"""

from __future__ import annotations

from collections.abc import Mapping

from saaslens_sandbox.workforce import Person, PlannedAccount, employees


def plan(p: Mapping[str, Person]) -> tuple[PlannedAccount, ...]:
    """Who of the workforce (by slot) has an account in GitHub, and in which state."""
    A = PlannedAccount
    staff = employees(p)
    return (
        A(p["leaver_deprovisioned"]),
        A(p["leaver_entra"]),
        A(p["admin_everywhere"], admin=True),
        A(p["admin_github_no_2fa"], admin=True, mfa=False),
        A(p["outside_collaborator"], guest=True),
        *(A(e) for e in staff[:6]),
    )
