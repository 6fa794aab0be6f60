"""The connected-apps file: which app instances exist and how each is scanned.

Each entry is validated on its own, so one bad entry breaks only its instance: the loader returns
the good instances plus an error per bad one, naming the file, the instance and the field.
Credentials and base URLs are deliberately absent: they belong in the Airflow Connection.

Whether an entry's app exists and accepts its options is the connectors' registry's to say; this
module, shared by every layer, asks through the `AppCheck` it is given
(saaslens.connectors.instances.load_connected_apps gives the registry's).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeAlias

import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, ValidationInfo, field_validator

from saaslens import settings

_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Matched with fullmatch: with re.match, `$` also matches before a final newline, and "acme\n" got
# through into DAG ids and lake paths.
NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
# Airflow's own rule for connection ids (airflow.models.connection.RE_SANITIZE_CONN_ID, at most
# 250 characters), matched in full.
CONN_ID_PATTERN = re.compile(r"[\w#!()\-.:/\\]{1,250}")
# What an instance's name and connection id must look like, and the rule a refusal states.
_FIELD_PATTERNS: dict[str, tuple[re.Pattern[str], str]] = {
    "name": (
        NAME_PATTERN,
        "must be 1-63 characters of lowercase letters, digits, '-' or '_', starting with a "
        "letter or digit (it becomes part of the DAG id, pool name and lake path)",
    ),
    "conn_id": (
        CONN_ID_PATTERN,
        "must be 1-250 characters Airflow allows in a connection id: letters, digits, '_', "
        "'#', '!', '(', ')', '-', '.', ':', '/' or '\\'",
    ),
}
_FIELD_PATTERNS["actions_conn_id"] = _FIELD_PATTERNS["conn_id"]

# The schedules Airflow 3 accepts as text (airflow.sdk.definitions.dag._create_timetable): null (no
# schedule), "@once", "@continuous", or a cron expression, after Airflow's preset aliases below
# (airflow.sdk.definitions.timetables._cron.CRON_PRESETS; a test keeps them equal) are resolved,
# which Airflow checks with croniter when it loads the DAG (CronMixin.validate). A duration is
# written as ISO 8601 (`PT6H`, `P1D`) and handed to Airflow as a timedelta, which Airflow 3 runs
# every that long (DeltaTriggerTimetable).
AIRFLOW_CRON_PRESETS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@quarterly": "0 0 1 */3 *",
    "@yearly": "0 0 1 1 *",
}
SCHEDULE_HINT = (
    "use a cron expression such as '0 */6 * * *', a preset (@hourly, @daily, @weekly, @monthly, "
    "@quarterly, @yearly, @once, @continuous), an ISO 8601 duration such as PT6H, or null for no schedule"
)
_DURATION = TypeAdapter(timedelta)

# (app, options) -> None when the app exists and accepts the options, else the message naming the field.
AppCheck: TypeAlias = Callable[[str, dict[str, Any]], str | None]


class ConfigError(Exception):
    """A connected-apps file or entry that cannot be used; the message says where and why."""


class GovernanceSettings(BaseModel):
    """How governance actions may run on an instance (docs/governance.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    require_approval: bool = Field(
        default=True,
        description="Every run that changes the tenant waits for an approver in Airflow; false lets an "
        "applied run (the DAG's, or `saaslens act --apply`) go ahead without one. Still recorded.",
    )
    allow_admin_targets: bool = Field(
        default=False,
        description="Act on super-admins, org owners and primary owners too; refused by default.",
    )
    max_targets: int = Field(default=25, ge=1, le=10_000, description="Most targets one run may change.")
    approvers: tuple[str, ...] = Field(
        default=(),
        description="Airflow user ids who may answer this instance's approvals (Airflow's HITL assigned "
        "users: the API server answers 403 to anyone else). Empty: anyone the auth manager lets act on the task.",
    )
    allow_self_approval: bool = Field(
        default=False,
        description="Let the user who triggered a run approve it. By default an approval from the requester "
        "counts as a rejection (four eyes): nothing is sent and the rows say why.",
    )


class InstanceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    app: str
    name: str
    conn_id: str = Field(min_length=1)
    # The connection governance actions use. Scans keep `conn_id`, which can then stay read-only;
    # without one, actions are disabled for the instance and say so.
    actions_conn_id: str | None = None
    enabled: bool = True
    schedule: str | None = "@daily"
    pool_slots: int = Field(default=4, ge=1, le=128)
    options: dict[str, Any] = Field(default_factory=dict)
    governance: GovernanceSettings = Field(default_factory=GovernanceSettings)

    @field_validator("name", "conn_id", "actions_conn_id")
    @classmethod
    def _matches_its_pattern(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return value
        pattern, rule = _FIELD_PATTERNS[str(info.field_name)]
        if not pattern.fullmatch(value):
            raise ValueError(rule)
        return value

    @field_validator("schedule")
    @classmethod
    def _schedule_is_airflows(cls, value: str | None) -> str | None:
        """Refused here, naming the instance, rather than by Airflow when it loads the DAG file,
        where one bad schedule fails every instance's DAG without saying whose it is."""
        if value is None or value in ("@once", "@continuous"):
            return value
        if value.strip().lower() in ("none", "null", ""):
            raise ValueError(f"{value!r} is not a schedule; write null (no quotes) for no schedule")
        if value.startswith("P"):
            duration_schedule(value)  # raises with the reason
            return value
        problem = _cron_problem(AIRFLOW_CRON_PRESETS.get(value, value))
        if problem:
            raise ValueError(f"{value!r} is not a schedule Airflow accepts ({problem}); {SCHEDULE_HINT}")
        return value

    @property
    def airflow_schedule(self) -> str | timedelta | None:
        """The schedule as the DAG takes it: a duration becomes a timedelta, the rest stays text."""
        if self.schedule is not None and self.schedule.startswith("P"):
            return duration_schedule(self.schedule)
        return self.schedule

    @property
    def key(self) -> str:
        """The instance as one identifier without '-': unique within a file (the loader refuses two
        names that differ only by '-' and '_'), and what its Airflow DAG id and pool name are made
        of (saaslens.orchestration.naming)."""
        return f"{self.app}_{self.name}".replace("-", "_")


def duration_schedule(value: str) -> timedelta:
    """An ISO 8601 duration (`PT6H`, `P1DT12H`) as a positive timedelta, or ValueError saying why."""
    try:
        duration = _DURATION.validate_python(value)
    except ValidationError:
        raise ValueError(f"{value!r} is not an ISO 8601 duration (such as PT6H or P1D); {SCHEDULE_HINT}") from None
    if duration <= timedelta(0):
        raise ValueError(f"{value!r} is not a positive duration; a schedule must repeat after some time")
    return duration


@functools.cache  # a file of thousands of instances has a handful of distinct schedules
def _cron_problem(expression: str) -> str | None:
    """Why Airflow would refuse this cron expression, or None: its own check, with croniter."""
    from croniter import CroniterBadCronError, CroniterBadDateError, croniter

    try:
        croniter(expression)
    except (CroniterBadCronError, CroniterBadDateError) as exc:
        return str(exc)
    return None


@dataclass(frozen=True)
class InstanceError:
    """An entry that failed validation. `name` is a best guess when the entry has no usable name."""

    file: Path
    name: str
    app: str | None
    message: str

    def __str__(self) -> str:
        return f"{self.file}: instance {self.name!r}: {self.message}"


class AutoRemediatePolicy(BaseModel):
    """Run a finding's suggested action on its rows after each report (docs/governance.md). Opt-in,
    one per finding; still a dry run until `dry_run: false`, still approved in Airflow unless
    `require_approval: false`, always recorded in governance_actions."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    finding: str = Field(pattern=r"^[A-Za-z0-9_]+$", description="The finding's id (its file name without .sql)")
    max_targets: int = Field(default=25, ge=1, le=1000, description="Most targets per instance and run")
    dry_run: bool = Field(default=True, description="Only plan (and record planned rows) until set to false")
    require_approval: bool = Field(default=True, description="Wait for an approver in the governance DAG")
    instances: list[str] | None = Field(
        default=None, description="Only these instances (app/name); default every instance with an action connection"
    )


@dataclass(frozen=True)
class ConnectedApps:
    file: Path
    instances: list[InstanceConfig]
    errors: list[InstanceError]
    auto_remediate: tuple[AutoRemediatePolicy, ...] = ()

    def get(self, ref: str) -> InstanceConfig:
        """Find an instance by `name` or `app/name`; the error lists what exists."""
        app, _, name = ref.rpartition("/")
        matches = [i for i in self.instances if i.name == name and (not app or i.app == app)]
        if len(matches) == 1:
            return matches[0]
        broken = [e for e in self.errors if e.name == name and (not app or e.app == app)]
        if broken:
            raise ConfigError(str(broken[0]))
        if len(matches) > 1:
            raise ConfigError(
                f"{self.file}: instance name {name!r} is used by several apps; say app/name "
                f"({', '.join(f'{m.app}/{m.name}' for m in matches)})"
            )
        known = ", ".join(f"{i.app}/{i.name}" for i in self.instances) or "none"
        raise ConfigError(f"{self.file}: no instance {ref!r} (configured: {known})")


def _format_validation_error(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        field = ".".join(str(p) for p in item["loc"]) or "entry"
        parts.append(f"field {field!r}: {item['msg']}")
    return "; ".join(parts)


def _validate_entry(file: Path, index: int, raw: Any, check_app: AppCheck) -> InstanceConfig | InstanceError:
    if not isinstance(raw, dict):
        return InstanceError(file, f"#{index + 1}", None, "entry must be a mapping")
    name = str(raw.get("name") or f"#{index + 1}")
    app = raw.get("app") if isinstance(raw.get("app"), str) else None
    try:
        instance = InstanceConfig.model_validate(raw)
    except ValidationError as exc:
        return InstanceError(file, name, app, _format_validation_error(exc))
    problem = check_app(instance.app, instance.options)
    if problem:
        return InstanceError(file, name, app, problem)
    return instance


def read_connected_apps(path: Path | str | None, check_app: AppCheck) -> ConnectedApps:
    """Read and validate the connected-apps file (SAASLENS_CONFIG when `path` is None), each entry's
    app and options with `check_app`.

    A file that cannot be read or parsed raises ConfigError (nothing can be generated from it);
    a bad entry only becomes an InstanceError beside the good ones.
    """
    file = Path(path) if path else settings.config_path()
    try:
        # libyaml's safe loader when PyYAML has it: five times faster, and the DAG file parses this
        # on every DAG-processor pass (bench/dag_parse.py).
        document = yaml.load(file.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)  # noqa: S506 - a safe loader
    except FileNotFoundError:
        raise ConfigError(f"{file}: connected-apps file not found (set SAASLENS_CONFIG)") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{file}: not valid YAML: {exc}") from None
    if document is None:
        document = {"instances": []}
    if not isinstance(document, dict) or not isinstance(document.get("instances", []), list):
        raise ConfigError(f"{file}: expected a mapping with an 'instances' list")

    defaults = document.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise ConfigError(f"{file}: 'defaults' must be a mapping")
    instances: list[InstanceConfig] = []
    errors: list[InstanceError] = []
    seen: dict[tuple[str, str], int] = {}
    keys: dict[str, InstanceConfig] = {}  # InstanceConfig.key -> the first instance with it
    for index, raw in enumerate(document.get("instances") or []):
        merged = {**defaults, **raw} if isinstance(raw, dict) else raw
        result = _validate_entry(file, index, merged, check_app)
        if isinstance(result, InstanceError):
            errors.append(result)
            continue
        ident = (result.app, result.name)
        if ident in seen:
            errors.append(
                InstanceError(
                    file,
                    result.name,
                    result.app,
                    f"field 'name': duplicate of entry #{seen[ident] + 1} for app {result.app!r}",
                )
            )
            continue
        seen[ident] = index
        first = keys.get(result.key)
        if first is not None:
            # '-' and '_' both become '_' in the key, and so in the DAG id and pool name made of it:
            # the second DAG would replace the first without a word. Refused, naming both and the
            # DAG id they would share (orchestration.naming); the first keeps its DAG.
            errors.append(
                InstanceError(
                    file,
                    result.name,
                    result.app,
                    f"field 'name': {result.app}/{result.name} and {first.app}/{first.name} both become "
                    f"{result.key} ('-' is written '_'), so one DAG id and pool saaslens_{result.key}; "
                    "rename one of them",
                )
            )
            continue
        keys[result.key] = result
        instances.append(result)
    policies = _auto_remediate_policies(file, document.get("auto_remediate"), errors)
    return ConnectedApps(file=file, instances=instances, errors=errors, auto_remediate=policies)


def _auto_remediate_policies(file: Path, raw: Any, errors: list[InstanceError]) -> tuple[AutoRemediatePolicy, ...]:
    """The valid policies; a bad one becomes an error beside the instances' (it runs nothing)."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        errors.append(InstanceError(file, "auto_remediate", None, "must be a list of policies"))
        return ()
    policies: list[AutoRemediatePolicy] = []
    for index, entry in enumerate(raw):
        label = f"auto_remediate #{index + 1}"
        try:
            policy = AutoRemediatePolicy.model_validate(entry)
        except ValidationError as exc:
            errors.append(InstanceError(file, label, None, _format_validation_error(exc)))
            continue
        if any(p.finding == policy.finding for p in policies):
            errors.append(InstanceError(file, label, None, f"a second policy for finding {policy.finding!r}"))
            continue
        policies.append(policy)
    return tuple(policies)
