"""The connector kit: what an app declares, as typed data, once.

An app is an `AppSpec`: its connector class (auth, error conventions, the HTTP clients it needs), its
stages (`SnapshotStage`, `ActivityStage`: which stage of the shared vocabulary, the permission it
needs, how it scans, whether a killed scan resumes, how it lists changes), its control actions
(`Action`: plan, apply, verify), and what the cross-app catalog needs to know about it (its OCSF
action map, the identity keys of its accounts, whether it is an identity provider, its broad OAuth
scopes). The runner, the DAG factory, the capability matrix, the catalog and the docs read these
declarations; nothing outside the app's folder repeats them. docs/adding-a-connector.md walks through
writing one.

Every scan yields one type, `Batch`. Context a later step needs (the admin ids an incremental merge
refreshes `is_admin` from) travels in `Batch.context`, never in connector attributes.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator, Mapping
from dataclasses import MISSING, dataclass, field, fields
from datetime import UTC, datetime
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import IO, Any, Generic, TypeAlias, TypeVar

from saaslens.connectors.base import ActingAccount as ActingAccount
from saaslens.connectors.base import AuthReport, Connector

# What scans yield lives below both this module and the Connector class; connector authors import
# it from here with everything else they declare, so it is exported on purpose.
from saaslens.connectors.batch import JSON as JSON
from saaslens.connectors.batch import ActivityWindow as ActivityWindow
from saaslens.connectors.batch import Batch as Batch
from saaslens.connectors.batch import Row as Row
from saaslens.http import ApiClient
from saaslens.vocabulary import (
    STAGE_COLLECTS,
    STAGE_TABLES,
    TARGET_CAPABILITY,
    Capability,
    Remedy,
    Stage,
    TargetKind,
    ordered,
)

C = TypeVar("C", bound=Connector)

# Scan functions take the connector first, so they can live in the app's stage modules as plain
# functions (cartography's get / transform / load split) rather than as methods of one large class.
SnapshotScan: TypeAlias = Callable[[C, "JSON | None"], Iterator[Batch]]
ActivityScan: TypeAlias = Callable[[C, str, ActivityWindow, "JSON | None"], Iterator[Batch]]
StartCursor: TypeAlias = Callable[[C], JSON]
ChangeScan: TypeAlias = Callable[[C, JSON], Iterator[Batch]]
MergeRow: TypeAlias = Callable[[str, "Row | None", "Row | None", Mapping[str, Any]], Row]


def keep_newest(table: str, previous: Row | None, changed: Row | None, context: Mapping[str, Any]) -> Row:
    """The default merge of an incremental snapshot: the provider's new state over the previous one."""
    row = changed if changed is not None else previous
    if row is None:
        raise ValueError(f"{table}: a merge needs a previous or a changed row")
    return row


@dataclass(frozen=True)
class Incremental(Generic[C]):
    """How a snapshot stage lists only what changed since a cursor (Okta `lastUpdated`, Graph delta).

    `start_cursor` is taken just before a full listing, so changes made during it are read again;
    `changes` yields Batches whose last one carries the new cursor; `merge` builds the row an
    incremental snapshot keeps (override to carry columns a change listing does not report)."""

    start_cursor: StartCursor[C]
    changes: ChangeScan[C]
    merge: MergeRow = keep_newest


@dataclass(frozen=True)
class Probe:
    """The cheapest request that proves a stage may run: GET `path` with `params`."""

    path: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SnapshotStage(Generic[C]):
    """A stage that publishes complete snapshots of its tables (STAGE_TABLES[stage]).

    `resumable`: `scan` yields Batches with checkpoints and accepts one back, so a killed scan
    continues after its last committed chunk instead of starting over."""

    stage: Stage
    scan: SnapshotScan[C]
    permission: str | None = None
    probe: Probe | None = None
    resumable: bool = False
    incremental: Incremental[C] | None = None

    @property
    def tables(self) -> tuple[str, ...]:
        return STAGE_TABLES[self.stage]

    @property
    def collects(self) -> frozenset[Capability]:
        return STAGE_COLLECTS[self.stage]


@dataclass(frozen=True)
class ActivityStage(Generic[C]):
    """The activities stage: independent event streams, each with its own cursor (Google's
    per-application Reports, Graph's signIns and directoryAudits); a denied or unlicensed stream
    skips only itself. `scan` reads one stream's window, continuing from a checkpoint if given.
    `collects` is which kinds of activity its streams carry: an audit log without sign-ins leaves
    out logon activity."""

    streams: tuple[str, ...]
    scan: ActivityScan[C]
    permission: str | None = None
    probe: Probe | None = None
    stage: Stage = Stage.ACTIVITIES
    collects: frozenset[Capability] = STAGE_COLLECTS[Stage.ACTIVITIES]

    @property
    def tables(self) -> tuple[str, ...]:
        return STAGE_TABLES[self.stage]


StageSpec: TypeAlias = "SnapshotStage[Any] | ActivityStage[Any]"


# -- file contents (content inspection) ----------------------------------------------------------


@dataclass(frozen=True)
class FetchedContent:
    """What a content fetch wrote: its length, the format of those bytes (an export's format for a
    provider-native document, e.g. a Google Doc exported as docx) and a file name whose extension
    matches it, for the text extractor."""

    bytes: int
    mime_type: str | None
    name: str | None = None


# fetch(connector, files row, sink, max_bytes): write the file's bytes into `sink`, at most `max_bytes`.
ContentFetch: TypeAlias = Callable[[C, Row, IO[bytes], int], FetchedContent]


def activity_target_file(row: Row) -> str | None:
    """The default reading of which file an activity is about: its target, when the target is a file."""
    kind = str(row.get("target_type") or "").lower()
    target = row.get("target_id")
    return str(target) if target and ("file" in kind or "document" in kind or "item" in kind) else None


@dataclass(frozen=True)
class FileContents(Generic[C]):
    """How an app's file contents are read for content inspection (saaslens.dlp, docs/dlp.md).

    `fetch` downloads one file of the files table through the connector's ApiClient (`client.download`,
    which streams, caps the size and never sends the API's token to a pre-authenticated storage URL);
    it raises ContentTooLargeError past `max_bytes` (the file is recorded as skipped, with the reason),
    NotFoundError for a file gone since the listing, PermissionDeniedError without `permission`.
    `skip` says why a listed row has no content to read (a folder, a shortcut, a form), None to read it.
    `version` is the content version a rescan compares (default: files.content_version, else
    modified_at). `change_events` are the activity actions after which a file is inspected again at
    once (near-real-time scans), `event_file` reads from such an activity row what names the file,
    and `event_key` reads the same name from a files row when the audit log does not use the file's
    id (Microsoft's unified audit log names a drive item by its URL, never by its Graph id); None
    means the file id."""

    fetch: ContentFetch[C]
    permission: str | None
    docs: str
    skip: Callable[[Row], str | None] | None = None
    change_events: frozenset[str] = frozenset()
    event_file: Callable[[Row], str | None] = activity_target_file
    event_key: Callable[[Row], str | None] | None = None

    def names(self, row: Row) -> set[str]:
        """What an announced change may call this files row: its id, and its event key if any."""
        found = {str(row["file_id"])}
        if self.event_key is not None:
            key = self.event_key(row)
            if key:
                found.add(key)
        return found

    @staticmethod
    def default_version(row: Row) -> str:
        version = row.get("content_version")
        if version:
            return str(version)
        modified = row.get("modified_at")
        return modified.isoformat() if isinstance(modified, datetime) else str(modified or "")


# -- control actions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """What an action changes: its kind and the lake keys that name it, as the governance engine
    resolved them from the instance's latest snapshot (`TARGET_KEYS` lists them per kind), e.g.
    `{"account_id": "00u1"}` or `{"file_id": "f1", "share_id": "anyoneWithLink"}`. `label` is a
    human name (email, file name) for the approver and the audit row; `row` the lake row found."""

    kind: TargetKind
    keys: Mapping[str, str]
    label: str = ""
    row: Mapping[str, Any] = field(default_factory=dict)


# The lake keys that name a target of each kind (and the table they are resolved from). A connector's
# plan reads `target.keys[...]` for exactly these.
TARGET_KEYS: dict[TargetKind, tuple[str, tuple[str, ...]]] = {
    TargetKind.ACCOUNT: ("accounts", ("account_id",)),
    TargetKind.SESSION: ("accounts", ("account_id",)),
    TargetKind.PRIVILEGE: ("privileges", ("account_id", "privilege_id")),
    TargetKind.APP_GRANT: ("app_permissions", ("grant_id",)),
    TargetKind.GROUP_MEMBERSHIP: ("group_members", ("group_id", "account_id")),
    TargetKind.FILE: ("files", ("file_id",)),
    TargetKind.FILE_SHARE: ("file_shares", ("file_id", "share_id")),
}


@dataclass(frozen=True)
class PlannedRequest:
    """One provider request an action would send. Never holds a credential: it is shown to the
    approving admin and stored in the audit trail."""

    method: str
    path: str
    body: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class ActionPlan:
    """What applying an action would do, computed without changing the tenant (the dry run).

    `before` is the target's state as the provider reported it while planning; `noop` says the target
    is already in the wanted state (apply is then never called: the run records already-applied);
    `protected` says why the target is a super-admin / org owner (or otherwise one the instance must
    opt in to with `allow_admin_targets`), None for an ordinary target; `undo` is the plan that
    reverses this one, for reversible actions."""

    action: str
    target: Target
    requests: tuple[PlannedRequest, ...]
    before: Mapping[str, Any] = field(default_factory=dict)
    noop: bool = False
    protected: str | None = None
    undo: ActionPlan | None = None


@dataclass(frozen=True)
class ActionOutcome:
    """What applying a plan did: the provider's answers, summarised (never a credential)."""

    plan: ActionPlan
    applied: bool
    detail: str
    applied_at: datetime | None = None


@dataclass(frozen=True)
class Verification:
    """Proof an applied action holds: the target's state read back, and the provider's audit event
    recording it when the provider writes one."""

    holds: bool
    after: Mapping[str, Any]
    audit_event_id: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class Action(Generic[C]):
    """A control action a connector declares: suspend a user, revoke a grant, remove a share.

    `plan` never changes the tenant: it re-reads the target from the provider (only GET, or the
    provider's read calls) and returns the exact requests apply would send. `apply` sends exactly the
    plan's requests through the connector's ApiClient (`client.request(..., idempotent=...)`: False
    for a call the provider does not document as idempotent, so a timeout is not retried blindly);
    `verify` reads the target back and says whether the new state holds. All three are given the
    connector built from the instance's *action* connection.

    Errors: a target the provider no longer has raises `NotFoundError` (recorded not-found); missing
    scopes or roles raise `PermissionDeniedError` carrying the provider's error code (recorded denied);
    anything else raises its `ApiError` (recorded failed). A provider that answers such errors with a
    200 and an error field (Slack's `ok: false`) has its connector raise the same classes.

    Until all three are given the action is declared only: the capability matrix shows its
    capability as supported by the provider's API, not built. `permission` is the provider
    permission (scope, role) apply needs, `docs` the provider page."""

    name: str
    target: TargetKind
    permission: str
    reversible: bool
    description: str
    docs: str
    plan: Callable[[C, Target], ActionPlan] | None = None
    apply: Callable[[C, ActionPlan], ActionOutcome] | None = None
    verify: Callable[[C, ActionOutcome], Verification] | None = None
    # What findings may suggest this action for (saaslens.vocabulary.Remedy).
    remedies: tuple[Remedy, ...] = ()

    @property
    def capability(self) -> Capability:
        return TARGET_CAPABILITY[self.target]

    @property
    def implemented(self) -> bool:
        return self.plan is not None and self.apply is not None and self.verify is not None


def send_request(
    client: ApiClient, request: PlannedRequest, *, idempotent: bool, parse_json: bool = True, form: bool = False
) -> str:
    """Send one planned request as it stands (its body as JSON, or form-encoded for APIs that take
    forms, such as Slack's Web API) and say what the provider answered: method, path and status,
    never a body. `idempotent` as `ApiClient.request` takes it: False for a change the provider does
    not document as safe to repeat."""
    body = dict(request.body) if request.body is not None else None
    kwargs: dict[str, Any] = {} if body is None else {"data" if form else "json": body}
    response, _ = client.request(request.method, request.path, idempotent=idempotent, parse_json=parse_json, **kwargs)
    where = client.relative_path(request.path) if request.path.startswith(("http://", "https://")) else request.path
    return f"{request.method} {where}: HTTP {response.status_code}"


def send_plan(client: ApiClient, plan: ActionPlan, *, idempotent: bool, parse_json: bool = True) -> ActionOutcome:
    """An action's usual `apply`: exactly the plan's requests, in order, through `client`; nothing
    for a plan that found the change in place (`noop`)."""
    if plan.noop:
        return ActionOutcome(plan=plan, applied=False, detail="already in the wanted state; nothing sent")
    answers = [send_request(client, request, idempotent=idempotent, parse_json=parse_json) for request in plan.requests]
    return ActionOutcome(plan=plan, applied=True, detail="; ".join(answers), applied_at=datetime.now(UTC))


@dataclass(frozen=True)
class ActionAccess:
    """Whether a connection may perform a declared action: "yes", "no" or "unknown"."""

    action: str
    permission: str
    access: str
    detail: str = ""

    @property
    def granted(self) -> bool | None:
        return {"yes": True, "no": False}.get(self.access)


def action_access(actions: tuple[Action[Any], ...], report: AuthReport) -> list[ActionAccess]:
    """For each action, from what authenticate found (no change made): yes when the credentials hold
    its permission, no when the provider lists everything they hold (`permissions_complete`) and it
    is not there, unknown when the provider cannot say without the change being tried."""
    found = []
    for action in actions:
        if action.permission in report.permissions:
            found.append(ActionAccess(action.name, action.permission, "yes", report.permissions[action.permission]))
        elif report.permissions_complete:
            found.append(
                ActionAccess(action.name, action.permission, "no", "not among the permissions the provider lists")
            )
        else:
            found.append(
                ActionAccess(
                    action.name, action.permission, "unknown", "the provider does not say without trying a change"
                )
            )
    return found


# -- what the cross-app catalog needs to know ----------------------------------------------------


@dataclass(frozen=True)
class OcsfMapping:
    """One provider action mapped to an OCSF event class and activity (https://schema.ocsf.io)."""

    action: str
    class_uid: int
    activity_id: int
    severity_id: int = 1

    @classmethod
    def read_csv(cls, path: Traversable) -> tuple[OcsfMapping, ...]:
        """The mappings in a CSV file: a header naming the columns (`action`, `class_uid`,
        `activity_id`, optionally `severity_id`), then one row per action, in any column order; an
        empty `severity_id` is the default. Lines starting with `#` are comments (what the table is,
        the provider page listing the actions). A malformed row raises ValueError naming the file,
        the line and what is wrong, so a typo fails when the app is imported, not in a catalog build."""
        columns = [f.name for f in fields(cls)]
        required = {f.name for f in fields(cls) if f.default is MISSING}
        # Line numbers count comments too, so an error points at the line an editor shows.
        lines = [
            (number, line)
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
            if line.strip() and not line.lstrip().startswith("#")
        ]
        if not lines:
            raise ValueError(f"{path}: no header row ({', '.join(columns)})")
        header_line, header_text = lines[0]
        header = [name.strip() for name in next(csv.reader([header_text]))]
        unknown = [name for name in header if name not in columns]
        absent = [name for name in columns if name in required and name not in header]
        if unknown or absent or len(set(header)) != len(header):
            raise ValueError(
                f"{path}:{header_line}: the header names each of {', '.join(columns)} at most once and "
                f"every one but {', '.join(sorted(set(columns) - required))} (unknown: {unknown}, "
                f"missing: {absent}): {header_text!r}"
            )
        mappings: list[OcsfMapping] = []
        seen: dict[str, int] = {}
        for number, text in lines[1:]:
            cells = [cell.strip() for cell in next(csv.reader([text]))]
            if len(cells) != len(header):
                raise ValueError(f"{path}:{number}: {len(cells)} columns where the header has {len(header)}: {text!r}")
            row = dict(zip(header, cells, strict=True))
            missing = [name for name in header if name in required and not row[name]]
            if missing:
                raise ValueError(f"{path}:{number}: missing {', '.join(missing)}: {text!r}")
            ids: dict[str, int] = {}
            for name in header:
                if name == "action" or not row[name]:
                    continue
                try:
                    ids[name] = int(row[name])
                except ValueError:
                    raise ValueError(f"{path}:{number}: {name} is not an integer: {row[name]!r}") from None
            action = row["action"]
            if action in seen:
                raise ValueError(f"{path}:{number}: action {action!r} is already mapped on line {seen[action]}")
            seen[action] = number
            mappings.append(cls(action=action, **ids))
        return tuple(mappings)


def read_ocsf(package: str) -> tuple[OcsfMapping, ...]:
    """An app's OCSF action map: `ocsf.csv` in its package's folder (`read_ocsf(__name__)` in its
    `__init__.py`), read through importlib.resources so an installed wheel finds it too."""
    return OcsfMapping.read_csv(files(package) / "ocsf.csv")


@dataclass(frozen=True)
class IdentityKey:
    """Where an account's identity keys (email addresses naming the person) come from, beyond the
    primary email every app has. `values` is a SQL expression over an accounts row that yields a list
    of strings; only values shaped like an email address are kept, so handles never link people."""

    source: str
    values: str
    why: str


@dataclass(frozen=True)
class BroadScope:
    """An OAuth scope (or permission) whose grant the broad_oauth_grants finding reports."""

    scope: str
    why: str


# -- the app --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AppSpec:
    """Everything saaslens knows about one app, declared in the app's folder.

    What the app can do is derived, never listed twice: its stages collect what they declare
    (`collects`), its actions give governance, revoking app permissions and sharing control, and
    `api_capabilities` adds only what the provider's API offers that neither a stage nor an action
    covers yet (security posture, content scans, labels), which the matrix shows as "API".

    The app's name and title are its connector class's (`app`, `title`), said once there."""

    connector: type[Connector]
    stages: tuple[StageSpec, ...]
    actions: tuple[Action[Any], ...] = ()
    api_capabilities: frozenset[Capability] = frozenset()
    ocsf: tuple[OcsfMapping, ...] = ()
    identity_keys: tuple[IdentityKey, ...] = ()
    identity_provider: str | None = None  # its title as an identity provider, e.g. "Microsoft Entra ID"
    broad_scopes: tuple[BroadScope, ...] = ()
    # How its files' contents are read for content inspection; None for an app without files.
    contents: FileContents[Any] | None = None
    # Its files stage reads sensitivity labels into files.sensitivity_label.
    reads_labels: bool = False

    @property
    def app(self) -> str:
        return self.connector.app

    @property
    def title(self) -> str:
        return self.connector.title

    def __post_init__(self) -> None:
        names = [spec.stage for spec in self.stages]
        if Stage.AUTHENTICATE in names:
            raise ValueError(f"{self.app}: authenticate is every connector's own method, not a declared stage")
        if len(set(names)) != len(names):
            raise ValueError(f"{self.app}: a stage is declared twice: {names}")
        actions = [a.name for a in self.actions]
        if len(set(actions)) != len(actions):
            raise ValueError(f"{self.app}: an action is declared twice: {actions}")

    @property
    def stage_names(self) -> list[Stage]:
        """The stages an instance's DAG has, in DAG order (authenticate first, always)."""
        return ordered({Stage.AUTHENTICATE, *(spec.stage for spec in self.stages)})

    def stage(self, name: str) -> StageSpec:
        for spec in self.stages:
            if spec.stage == name:
                return spec
        raise KeyError(f"{self.title} has no {name} stage")

    def activity_stage(self) -> ActivityStage[Any] | None:
        return next((s for s in self.stages if isinstance(s, ActivityStage)), None)

    @property
    def stage_permissions(self) -> dict[str, str]:
        return {str(s.stage): s.permission for s in self.stages if s.permission}

    @property
    def collected(self) -> frozenset[Capability]:
        """What saaslens does with this app today: what declared stages collect and implemented
        actions change."""
        scanned = {c for s in self.stages for c in s.collects}
        acting = {a.capability for a in self.actions if a.implemented}
        return frozenset(scanned | acting | self._content_capabilities)

    @property
    def _content_capabilities(self) -> set[Capability]:
        found: set[Capability] = set()
        if self.contents is not None:
            found.add(Capability.DLP_PERIODIC_SCAN)
            if self.contents.change_events:
                found.add(Capability.DLP_NEAR_REAL_TIME)
        if self.reads_labels:
            found.add(Capability.SENSITIVITY_LABELS)
        return found

    @property
    def capabilities(self) -> frozenset[Capability]:
        """What the provider's API allows: what the stages collect, every declared action's capability
        and the API capabilities beyond both."""
        declared = {c for s in self.stages for c in s.collects} | {a.capability for a in self.actions}
        return frozenset(self.api_capabilities | declared | self._content_capabilities)
