"""Small pure helpers the connectors' transforms share."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

# The instants providers send to mean "no such time". None is a real moment, so each is unknown
# (null), never 1970 or the year 1, which would make an account look ancient to every finding:
# - 0, in epoch seconds: Slack's users.list gives Slackbot "updated": 0 (a recorded response in
#   ymtszw/zephyr tests/SlackTestData.elm), and usergroups "date_delete": 0 for a group that is
#   not deleted (https://api.slack.com/types/usergroup);
# - 1970-01-01T00:00:00.000Z: Google's Directory API lastLoginTime of a user who never signed in
#   (https://developers.google.com/workspace/admin/directory/reference/rest/v1/users);
# - 0001-01-01T00:00:00Z: .NET's DateTimeOffset.MinValue, what Microsoft Graph (a .NET service)
#   serialises for a DateTimeOffset that was never set
#   (https://learn.microsoft.com/dotnet/api/system.datetimeoffset.minvalue);
# - "" or blanks, which Okta and Slack use for empty attributes.
UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def parse_time(value: Any) -> datetime | None:
    """A provider's time, to an aware UTC datetime: ISO 8601 (with Z or an offset) or epoch
    seconds / milliseconds, as a number or a string of digits. A sentinel (above) is None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        if value.year <= 1:
            return None
        parsed = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        return None if parsed == UNIX_EPOCH else parsed
    text = value if isinstance(value, int | float) else str(value).strip()
    if isinstance(text, str) and text.replace(".", "", 1).isdigit():
        text = float(text)
    if isinstance(text, int | float):
        seconds = text / 1000 if text > 10**11 else text  # epoch ms (GitHub's audit log) or s
        return None if seconds == 0 else datetime.fromtimestamp(seconds, tz=UTC)
    if not text:
        return None
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    return parse_time(datetime.fromisoformat(text))


def iso_z(moment: datetime) -> str:
    """The UTC ISO form most APIs accept in query strings: 2026-11-27T14:40:00.000Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def lower(value: Any) -> str | None:
    return str(value).strip().lower() if value else None


def raw_json(item: Any) -> str:
    return orjson.dumps(item, option=orjson.OPT_SORT_KEYS).decode()
