"""What every scan yields: `Batch`, and the activity window an activity scan reads.

These sit below both the kit (the declarations, which name the Connector class their scan functions
take) and the Connector base class (whose helpers yield Batches), so neither has to import the
other's module to get them. Connector authors import them from saaslens.connectors.kit, with the
rest of what an app declares.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeAlias

JSON: TypeAlias = dict[str, Any]
Row: TypeAlias = dict[str, Any]


# -- what scans yield ------------------------------------------------------------------------------


@dataclass
class Batch:
    """Rows for one table, and what the runner needs to store them safely.

    - `checkpoint`: the connector's own JSON-able resume state after these rows (for events, the
      paginator's next request as `PageRequest.to_state()`); handed back to the scan function when a
      killed scan resumes. None: no safe resume point here (the runner then never commits a
      checkpoint after this batch; for an activity stream, the window is complete).
    - `removed`, `children`, `cursor`: for change listings only. Keys the provider said are gone (its
      own deletion signal); for a child table (group_members), parent key -> that parent's complete
      current rows; on the last batch, the cursor to store with the published snapshot.
    - `context`: what the stage's merge function needs beyond the rows (JSON-able); later batches
      update earlier ones key by key.
    """

    table: str
    rows: list[Row] = field(default_factory=list)
    checkpoint: JSON | None = None
    removed: list[str] = field(default_factory=list)
    children: dict[str, list[Row]] = field(default_factory=dict)
    cursor: JSON | None = None
    context: JSON = field(default_factory=dict)


@dataclass(frozen=True)
class ActivityWindow:
    """The half-open span [since, until) an activity scan reads."""

    since: datetime
    until: datetime
