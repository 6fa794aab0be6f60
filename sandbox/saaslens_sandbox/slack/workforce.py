"""The shared workforce's accounts in Slack (``saaslens_sandbox.workforce``).

Leavers still active here, a clean leaver deleted here, an admin without 2FA, a multi-channel
guest and an outside collaborator as a single-channel guest.
"""

from __future__ import annotations

from collections.abc import Mapping

from saaslens_sandbox.workforce import Person, PlannedAccount, employees


def plan(p: Mapping[str, Person]) -> tuple[PlannedAccount, ...]:
    """Who of the workforce (by slot) has an account in Slack, and in which state."""
    A = PlannedAccount
    staff = employees(p)
    return (
        A(p["leaver_deprovisioned"]),
        A(p["leaver_suspended"]),
        A(p["leaver_google"]),
        A(p["offboarded"], "deprovisioned"),
        A(p["dormant_okta"]),
        A(p["admin_everywhere"], admin=True),
        A(p["admin_slack_no_2fa"], admin=True, mfa=False),
        A(p["guest_partner"], guest=True),
        A(p["outside_collaborator"], guest=True),
        *(A(e) for e in staff[:10]),
    )
