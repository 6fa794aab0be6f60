"""The names of an instance's Airflow objects: its DAG and its pool.

The connected-apps file says which instances exist (saaslens.config); what Airflow calls them is
orchestration's business. Both names derive from `InstanceConfig.key`, which the loader keeps unique
within a file (two names differing only by '-' and '_' are refused), so no DAG replaces another.
"""

from __future__ import annotations

from saaslens.config import InstanceConfig

PREFIX = "saaslens_"


def dag_id(instance: InstanceConfig) -> str:
    return f"{PREFIX}{instance.key}"


def pool_name(instance: InstanceConfig) -> str:
    """One pool per instance: its slots bound the concurrent API calls against that one tenant."""
    return f"{PREFIX}{instance.key}"


def content_dag_id(instance: InstanceConfig) -> str:
    """The instance's content-inspection (DLP) DAG (saaslens.orchestration.content_dag)."""
    return f"{PREFIX}{instance.key}_dlp"


def content_pool_name(instance: InstanceConfig) -> str:
    """The DLP DAG's own pool: downloads and inspection never take the scan stages' slots."""
    return f"{PREFIX}{instance.key}_dlp"


def governance_dag_id(instance: InstanceConfig) -> str:
    """The instance's governance DAG (saaslens.orchestration.governance_dag)."""
    return f"{PREFIX}{instance.key}_governance"


# The governance DAG's task ids, in order.
PLAN, APPROVE, APPLY, VERIFY, RECORD = "plan", "approve", "apply", "verify", "record"
