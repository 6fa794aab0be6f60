"""What a connector's settings stage yields: one `settings` row per setting, read or not.

A settings stage reads many endpoints, and a tenant may deny, not license or not expose any one of
them; that must make only the rules reading that setting not evaluated, never fail the whole stage
or let a rule pass. `read_setting` turns the HTTP layer's errors into the row's status and reason:

    yield Batch("settings", [
        read_setting("password_policies", "GET /api/v1/policies?type=PASSWORD",
                     lambda: list(client.iter_items("/api/v1/policies", paginator, {"type": "PASSWORD"}))),
        ...
    ])

A stage whose credentials lack the settings scope altogether is skipped by its permission probe,
like any stage; the posture rules then say which permission was missing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from saaslens.connectors.batch import Row
from saaslens.http import AuthenticationError, PermissionDeniedError
from saaslens.http.errors import ApiError, FeatureUnavailableError, NotFoundError, TransientError
from saaslens.http.redaction import redact

_REASON_LIMIT = 300


def setting_row(setting_id: str, source: str, value: Any, raw: Any = None) -> Row:
    """An available setting: `value` as the rules read it (JSON-able), `raw` the provider's answer
    when it differs from the value."""
    return {
        "setting_id": setting_id,
        "status": "available",
        "value": json.dumps(value, sort_keys=True, ensure_ascii=False, default=str),
        "source": source,
        "reason": None,
        "raw": None if raw is None else json.dumps(raw, sort_keys=True, ensure_ascii=False, default=str),
    }


def unavailable_row(setting_id: str, source: str, status: str, reason: str) -> Row:
    return {
        "setting_id": setting_id,
        "status": status,
        "value": None,
        "source": source,
        "reason": redact(reason)[:_REASON_LIMIT],
        "raw": None,
    }


def read_setting(setting_id: str, source: str, read: Callable[[], Any], *, not_found_means: str = "not_exposed") -> Row:
    """Call `read` and return the setting's row: available with its value, or denied / unlicensed /
    not exposed with the provider's reason. Rejected credentials and transient errors that outlived
    the retries are raised: the stage fails (and is retried), rather than recording a tenant's
    settings as unreadable because the network blinked. `not_found_means`: what a 404 says for this
    endpoint (Okta answers 404 for a feature the org does not have: "unlicensed")."""
    try:
        value = read()
    except (AuthenticationError, TransientError):
        raise
    except PermissionDeniedError as exc:
        return unavailable_row(setting_id, source, "denied", str(exc))
    except FeatureUnavailableError as exc:
        return unavailable_row(setting_id, source, "unlicensed", str(exc))
    except NotFoundError as exc:
        return unavailable_row(setting_id, source, not_found_means, str(exc))
    except ApiError as exc:
        return unavailable_row(setting_id, source, "failed", f"{type(exc).__name__}: {exc}")
    return setting_row(setting_id, source, value)
