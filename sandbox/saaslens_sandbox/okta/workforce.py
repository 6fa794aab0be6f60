"""The shared workforce's accounts in Okta (``saaslens_sandbox.workforce``).

The identity provider most people sign in through: leavers deprovisioned or suspended here, dormant
and never-signed-in accounts, an ORG_ADMIN, consent grants, and the failed sign-ins (``failed_sign_ins``).
"""

from __future__ import annotations

from collections.abc import Mapping

from saaslens_sandbox.workforce import Person, PlannedAccount, employees


def plan(p: Mapping[str, Person]) -> tuple[PlannedAccount, ...]:
    """Who of the workforce (by slot) has an account in Okta, and in which state."""
    A = PlannedAccount
    staff = employees(p)
    return (
        A(p["leaver_deprovisioned"], "deprovisioned", last_login_days=20),
        A(p["leaver_suspended"], "suspended", last_login_days=12, grant_scopes=("okta.myAccount.profile.read",)),
        A(p["leaver_google"]),
        A(p["leaver_entra"]),
        A(p["offboarded"], "deprovisioned", last_login_days=60),
        A(p["dormant_okta"], last_login_days=150),
        A(p["dormant_google"]),
        A(p["dormant_entra"]),
        A(p["never_signed_in"], last_login_days=None, created_days=400),
        A(p["admin_everywhere"], admin=True),
        A(p["admin_google_no_2sv"]),
        A(p["admin_slack_no_2fa"]),
        A(p["admin_github_no_2fa"]),
        A(p["okta_admin"], admin=True),
        A(p["promoted"]),
        A(p["file_sharer"]),
        A(p["broad_grants"], grant_scopes=("okta.users.manage",)),
        A(p["spiked"]),
        *(A(e) for e in staff),
    )
