"""Per-run request counters, stored in scan_runs."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, fields


@dataclass
class RunMetrics:
    """Per-run counters, stored in scan_runs."""

    requests: int = 0
    retries: int = 0
    throttled: int = 0
    bytes: int = 0
    records: int = 0
    pacing_wait_seconds: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **counts: float) -> None:
        with self._lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)

    def as_dict(self) -> dict[str, float]:
        with self._lock:
            return {f.name: getattr(self, f.name) for f in fields(self) if not f.name.startswith("_")}
