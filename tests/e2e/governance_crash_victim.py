"""A governance run killed by SIGKILL after its change reached the provider and before its row was
written, for tests/e2e/test_governance_crash.py: what an Airflow worker dying mid-task looks like.

Usage: python -m tests.e2e.governance_crash_victim  (the spec, JSON, on standard input: the
connection holds a credential, which must not show in the process list)
"""

from __future__ import annotations

import json
import os
import signal
import sys
from datetime import datetime

from saaslens.config import InstanceConfig
from saaslens.connections import ConnectionInfo
from saaslens.governance import Approval, GovernanceRequest, act, engine
from saaslens.lake.writer import Lake


def main(spec: dict) -> int:
    def die(*_args: object, **_kwargs: object) -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    engine.record_step = die  # the step after verify: the change is sent, the row not yet written
    request = GovernanceRequest(
        **{
            **spec["request"],
            "targets": tuple(spec["request"]["targets"]),
            "requested_at": datetime.fromisoformat(spec["request"]["requested_at"]),
        }
    )
    act(
        InstanceConfig(**spec["instance"]),
        request,
        Lake(spec["lake"]),
        connection=ConnectionInfo(**spec["connection"]),
        approval=Approval(True, "crash-test approver", datetime.fromisoformat(spec["request"]["requested_at"])),
    )
    return 3  # never reached


if __name__ == "__main__":
    sys.exit(main(json.loads(sys.stdin.read())))
