"""Canonical tables: one definition drives the Parquet schemas, the DuckDB column comments and
docs/schema.md (a test keeps the doc in step with this file).

Every table carries `app` and `instance`; snapshot tables carry `snapshot_id`/`snapshot_at`,
event tables `event_date`. `raw` keeps the provider's JSON for the row, untouched.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import pyarrow as pa

Kind = Literal["snapshot", "events", "runs"]

ACCOUNT_STATUSES = ("active", "pending", "locked", "suspended", "deprovisioned")
ACCOUNT_TYPES = ("member", "guest", "external", "service", "bot")
ACTIVITY_CATEGORIES = ("logon", "user", "admin", "file", "app")
OUTCOMES = ("success", "failure", "unknown")
# Whether a setting could be read (settings.status): denied (the credentials lack the scope or role),
# unlicensed (the tenant's plan lacks the feature), not_exposed (the API does not report it for this
# tenant), failed (an error other than those).
SETTING_STATUSES = ("available", "denied", "unlicensed", "not_exposed", "failed")
# A posture rule's result (posture_results.status); "muted" is shown by the posture views only.
POSTURE_STATUSES = ("pass", "fail", "not_evaluated")
RUN_STATUSES = ("success", "failed", "skipped")
# What became of one governance action on one target (docs/governance.md).
ACTION_RESULTS = (
    "planned",
    "applied",
    "already-applied",
    "denied",
    "not-found",
    "failed",
    "refused",
    "rejected-by-approver",
)


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # string | bool | int64 | float64 | timestamp | list<string>
    description: str
    required: bool = False


@dataclass(frozen=True)
class Table:
    name: str
    kind: Kind
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


_APP = Column("app", "string", "Connector that produced the row (okta, github, ...).", True)
_INSTANCE = Column("instance", "string", "Connected app instance name from connected_apps.yaml.", True)
_SNAPSHOT = (
    Column("snapshot_id", "string", "Identifier of the published snapshot (sortable, UTC).", True),
    Column("snapshot_at", "timestamp", "When the snapshot's scan ran (UTC).", True),
)
_RAW = Column("raw", "string", "The provider's JSON for this row, as received (may be null for derived rows).")


def _snapshot_table(name: str, description: str, key: tuple[str, ...], *columns: Column) -> Table:
    return Table(name, "snapshot", description, (_APP, _INSTANCE, *_SNAPSHOT, *columns, _RAW), key)


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        _snapshot_table(
            "accounts",
            "Every account the app knows, in every status, as of a snapshot.",
            ("account_id",),
            Column("account_id", "string", "The provider's immutable id for the account.", True),
            Column("login", "string", "Sign-in name (Okta login, GitHub handle, UPN)."),
            Column("email", "string", "Primary email, lowercased."),
            Column("display_name", "string", "Human-readable name."),
            Column("status", "string", "Normalized status: " + ", ".join(ACCOUNT_STATUSES) + ".", True),
            Column("provider_status", "string", "The provider's own status value (e.g. Okta PASSWORD_EXPIRED)."),
            Column("account_type", "string", "Normalized type: " + ", ".join(ACCOUNT_TYPES) + ".", True),
            Column(
                "is_admin",
                "bool",
                "Holds any administrative role in this app; null when the credentials cannot read roles.",
            ),
            Column(
                "mfa_enabled",
                "bool",
                "Enrolled in MFA / 2-step verification; null when the app does not say.",
            ),
            Column("created_at", "timestamp", "When the account was created."),
            Column(
                "last_login_at",
                "timestamp",
                "Last successful sign-in the app reports; null if never or unknown.",
            ),
            # A separate column because providers that report attempts (Microsoft Graph's
            # lastSignInDateTime) count failures too: a password spray must not look like use.
            Column(
                "last_login_attempt_at",
                "timestamp",
                "Last sign-in attempt, successful or not, where the app reports attempts (Microsoft 365); "
                "null elsewhere. Not evidence of use: failed attempts move it.",
            ),
            Column("updated_at", "timestamp", "When the provider last changed the account."),
        ),
        _snapshot_table(
            "groups",
            "Groups, teams and distribution lists.",
            ("group_id",),
            Column("group_id", "string", "The provider's id for the group.", True),
            Column("name", "string", "Group name.", True),
            Column("description", "string", "Group description."),
            Column("group_type", "string", "Provider group type (Okta OKTA_GROUP/APP_GROUP/BUILT_IN, ...)."),
            Column("created_at", "timestamp", "When the group was created."),
            Column("updated_at", "timestamp", "When the group was last changed."),
        ),
        _snapshot_table(
            "group_members",
            "Direct membership of accounts in groups.",
            ("group_id", "account_id"),
            Column("group_id", "string", "Group id (groups.group_id).", True),
            Column("account_id", "string", "Member account id (accounts.account_id).", True),
            Column(
                "member_role",
                "string",
                "Role in the group where the app has one (member, maintainer, owner).",
            ),
        ),
        _snapshot_table(
            "privileges",
            "Administrative roles held by accounts, directly or through a group.",
            ("account_id", "privilege_id"),
            Column("account_id", "string", "Account holding the privilege.", True),
            Column("privilege_id", "string", "The provider's id for this assignment.", True),
            Column(
                "privilege_name",
                "string",
                "Role name or type (SUPER_ADMIN, org admin, Global Administrator).",
                True,
            ),
            Column("scope", "string", "What the role applies to (whole org, a set of groups or apps)."),
            Column("assignment_type", "string", "direct or group."),
            Column(
                "via_group_id",
                "string",
                "Group the role is inherited through, when assignment_type is group.",
            ),
        ),
        _snapshot_table(
            "app_permissions",
            "OAuth grants and app authorizations: which client holds which scopes for which account.",
            ("grant_id",),
            Column("grant_id", "string", "The provider's id for the grant.", True),
            Column("account_id", "string", "Account that granted consent; null for org-wide grants."),
            Column("client_id", "string", "OAuth client / app id.", True),
            Column("client_name", "string", "App display name where known."),
            Column("scopes", "list<string>", "Scopes or permissions granted.", True),
            Column("status", "string", "Grant status (ACTIVE, REVOKED, ...)."),
            Column("source", "string", "Who granted it: end user or admin."),
            Column("created_at", "timestamp", "When the grant was made."),
        ),
        _snapshot_table(
            "files",
            "Files and folders with their overall exposure.",
            ("file_id",),
            Column("file_id", "string", "The provider's id for the file.", True),
            Column("name", "string", "File name."),
            Column("path", "string", "Path or drive location."),
            Column("owner_id", "string", "Owning account id."),
            Column("owner_email", "string", "Owner email."),
            Column("mime_type", "string", "MIME type."),
            Column("size_bytes", "int64", "Size in bytes."),
            Column("created_at", "timestamp", "Created."),
            Column("modified_at", "timestamp", "Last modified."),
            Column("visibility", "string", "Widest exposure: private, internal, external or public."),
            Column(
                "content_version",
                "string",
                "The provider's version of the content (Drive version / md5Checksum, Graph cTag, Slack's edit "
                "time): content inspection rescans a file when it changes.",
            ),
            Column("trashed", "bool", "In the trash (still shared until it is purged); null where not listed."),
            Column(
                "sensitivity_label",
                "string",
                "Sensitivity label's name (Microsoft Purview on drive items, Google Drive labels); null when none.",
            ),
            Column("sensitivity_label_id", "string", "The provider's id of that label."),
        ),
        _snapshot_table(
            "file_shares",
            "Who a file is shared with: users, groups, domains, anyone-with-link.",
            ("file_id", "share_id"),
            Column("file_id", "string", "File id (files.file_id).", True),
            Column("share_id", "string", "The provider's id for the permission or link.", True),
            Column("principal_type", "string", "user, group, domain, anyone or link."),
            Column("principal_id", "string", "Principal's id where there is one."),
            Column("principal_email", "string", "Principal's email or domain."),
            Column("role", "string", "Access granted (reader, writer, owner, ...)."),
            Column("is_external", "bool", "Principal is outside the organization's domains."),
        ),
        _snapshot_table(
            "settings",
            "The tenant's security configuration as the provider's API reports it, one row per setting, as of a "
            "snapshot; the posture rules (include/posture/) read it. docs/posture.md.",
            ("setting_id",),
            Column(
                "setting_id",
                "string",
                "The connector's name for the setting (password_policies, two_factor_requirement, ...).",
                True,
            ),
            Column(
                "status",
                "string",
                "Whether it could be read: " + ", ".join(SETTING_STATUSES) + ". Only an available setting "
                "is evaluated; the others make the rules that need it not evaluated, with `reason`.",
                True,
            ),
            Column("value", "string", "The setting as JSON, as the rules read it; null unless available."),
            Column("source", "string", "The endpoint it was read from (GET /api/v1/policies?type=PASSWORD).", True),
            Column("reason", "string", "Why it is not available, as the provider said (redacted)."),
        ),
        _snapshot_table(
            "instance_permissions",
            "What the instance's credentials may do, found by the authenticate stage.",
            ("kind", "name"),
            Column(
                "kind",
                "string",
                "'permission' (a scope or role the credentials hold), 'stage', or 'action' (a governance action "
                "the instance's action connection may perform).",
                True,
            ),
            Column("name", "string", "Scope/role name, stage name or action name.", True),
            Column(
                "granted",
                "bool",
                "Held (permission), allowed to run (stage), may be performed (action); null for an action the "
                "provider cannot say about without the change being tried.",
            ),
            Column("detail", "string", "Why a stage is not allowed, or how the permission was learned."),
        ),
        Table(
            "activities",
            "events",
            "Sign-in, user and administrative events, deduplicated on the provider's event id.",
            (
                _APP,
                _INSTANCE,
                Column("event_date", "string", "UTC date of occurred_at (YYYY-MM-DD); the partition.", True),
                Column("event_id", "string", "The provider's unique event id (Okta uuid).", True),
                Column("occurred_at", "timestamp", "When the event happened (UTC).", True),
                Column("category", "string", "logon, user, admin, file or app.", True),
                Column("action", "string", "The provider's event type (user.session.start, ...).", True),
                Column("outcome", "string", "success, failure or unknown.", True),
                Column("outcome_reason", "string", "Why it failed, as the provider says."),
                Column("actor_id", "string", "Who did it: provider id."),
                Column("actor_login", "string", "Who did it: login or email."),
                Column("actor_type", "string", "User, app, system ..."),
                Column("target_id", "string", "Main target's id."),
                Column("target_name", "string", "Main target's login or name."),
                Column("target_type", "string", "Main target's type."),
                Column("ip", "string", "Client IP address."),
                Column("user_agent", "string", "Raw user agent."),
                Column("country", "string", "Country from the provider's geolocation."),
                Column("ingested_at", "timestamp", "When saaslens stored the event.", True),
                _RAW,
            ),
            ("event_id",),
        ),
        Table(
            "scan_runs",
            "runs",
            "One row per stage run: what it did and how the API behaved.",
            (
                _APP,
                _INSTANCE,
                Column("run_id", "string", "Airflow run id, or cli-<time> outside Airflow.", True),
                Column("stage", "string", "authenticate, users, groups, ...", True),
                Column("attempt", "int64", "Try number within the run.", True),
                Column("started_at", "timestamp", "Stage start (UTC).", True),
                Column("ended_at", "timestamp", "Stage end (UTC).", True),
                Column("status", "string", "success, failed or skipped.", True),
                Column("snapshot_id", "string", "Snapshot the stage published, if any."),
                Column(
                    "scan_mode",
                    "string",
                    "How a snapshot stage read the provider: full (a complete listing), incremental (the "
                    "provider's changes since the cursor applied to the previous snapshot) or resumed (a full "
                    "listing continued from the checkpoint of a killed attempt); null for other stages.",
                ),
                Column("records", "int64", "Records stored."),
                Column("requests", "int64", "HTTP requests made, retries included."),
                Column("retries", "int64", "Requests retried."),
                Column("throttled", "int64", "Responses that said slow down (429, ...)."),
                Column("bytes", "int64", "Response bytes received."),
                Column("pacing_wait_seconds", "float64", "Time spent pacing before rate limits."),
                Column("error", "string", "Why it failed or was skipped (redacted)."),
            ),
            ("run_id", "stage", "attempt"),
        ),
        Table(
            "governance_actions",
            "runs",
            "Every governance action saaslens planned or took, one row per target and run: dry runs, "
            "approvals, refusals, denials and failures included. Append-only; see docs/governance.md.",
            (
                _APP,
                _INSTANCE,
                Column(
                    "action_id",
                    "string",
                    "This row's id: the run, action and target hashed; a retried run writes the same id.",
                    True,
                ),
                Column("run_id", "string", "Airflow run id of the governance DAG, or act-<time> from the CLI.", True),
                Column(
                    "action", "string", "The connector's declared action (suspend_user, revoke_user_grant, ...).", True
                ),
                Column("target_kind", "string", "account, session, privilege, app_grant, file_share, ...", True),
                Column(
                    "target_id",
                    "string",
                    "The target's lake key, parts joined by '/' (account_id, file_id/share_id).",
                    True,
                ),
                Column("target_name", "string", "The target's login, email or name, from the lake."),
                Column(
                    "requested_by", "string", "Who asked: the Airflow user who triggered the run, or the OS user.", True
                ),
                Column("requested_at", "timestamp", "When the run was asked for (UTC).", True),
                Column("reason", "string", "Why, as the requester wrote it."),
                Column("dry_run", "bool", "True when the run only planned.", True),
                Column(
                    "approved_by",
                    "string",
                    "Who approved or rejected the run in Airflow; null when no approval was asked.",
                ),
                Column("approved_at", "timestamp", "When they answered (UTC)."),
                Column(
                    "result",
                    "string",
                    "planned (dry run), applied, already-applied (nothing to change), denied (the provider refused the "
                    "credentials), not-found, failed, refused (a saaslens guard rail) or rejected-by-approver.",
                    True,
                ),
                Column("provider_status", "int64", "HTTP status of the provider's answer that decided the result."),
                Column("provider_error", "string", "The provider's error code and message (redacted), if any."),
                Column(
                    "requests", "string", "JSON: the requests the plan sends (method, path, body); never a credential."
                ),
                Column("before", "string", "JSON: the target's state read from the provider while planning."),
                Column("after", "string", "JSON: the target's state read back after applying (verify)."),
                Column("verified", "bool", "The re-read showed the new state; null when nothing was applied."),
                Column(
                    "detail", "string", "What happened, in words (why refused, what failed, the provider's answers)."
                ),
                Column("recorded_at", "timestamp", "When saaslens wrote this row (UTC).", True),
            ),
            ("action_id",),
        ),
        Table(
            "file_scans",
            "runs",
            "Content inspection (DLP): one row per file per scan, whether it was read and how. The newest row of a "
            "file is its current state (view file_scans_latest); docs/dlp.md.",
            (
                _APP,
                _INSTANCE,
                Column("file_id", "string", "File id (files.file_id).", True),
                Column(
                    "content_version",
                    "string",
                    "The provider's content version that was read (files.content_version).",
                    True,
                ),
                Column("scan_id", "string", "This scan of this file: the run and the file hashed.", True),
                Column("run_id", "string", "The Airflow run (or cli-<time>) that scanned it.", True),
                Column(
                    "trigger", "string", "periodic (the schedule) or event (a file change in the activity log).", True
                ),
                Column("scanned_at", "timestamp", "When the scan of this file ended (UTC).", True),
                Column(
                    "status",
                    "string",
                    "scanned, unreadable (encrypted, corrupt, zip bomb, unsupported), skipped (too large, no content, "
                    "trashed and not scanned), not-found (gone since the listing), denied or failed.",
                    True,
                ),
                Column(
                    "reason",
                    "string",
                    "Why it was not scanned: a reason word and a detail naming the fault, never content.",
                ),
                Column("bytes", "int64", "Bytes downloaded."),
                Column("chars", "int64", "Characters of text inspected."),
                Column(
                    "extractor",
                    "string",
                    "What read the text: the format and library (pypdf 7.1.1, docx, text (utf-8)).",
                ),
                Column("truncated", "bool", "Extraction stopped at the character limit; the rest was not inspected."),
                Column(
                    "visibility",
                    "string",
                    "files.visibility when scanned: the exposure the policies were evaluated at.",
                ),
                Column("matches", "int64", "Detector hits in the file (all detectors)."),
                Column(
                    "policies", "list<string>", "Policies of include/dlp_policies.yaml the file broke when scanned."
                ),
                Column(
                    "severity", "string", "Highest severity among those policies (high, medium, low); null for none."
                ),
                Column(
                    "policy_version",
                    "string",
                    "Hash of the detector settings used: changing them rescans every file.",
                    True,
                ),
            ),
            ("file_id", "scan_id"),
        ),
        Table(
            "dlp_matches",
            "runs",
            "Content inspection (DLP): what each detector found in a scanned file, as counts, positions and masked "
            "previews; matched values themselves are never stored (docs/dlp.md).",
            (
                _APP,
                _INSTANCE,
                Column("file_id", "string", "File id (files.file_id).", True),
                Column("scan_id", "string", "The scan that found it (file_scans.scan_id).", True),
                Column("scanned_at", "timestamp", "When the file was scanned (UTC).", True),
                Column(
                    "detector",
                    "string",
                    "payment_card, iban, us_ssn, credential:<kind>, email_address, a custom id ...",
                    True,
                ),
                Column("severity", "string", "The detector's severity: high, medium or low.", True),
                Column("count", "int64", "Occurrences found.", True),
                Column("distinct_values", "int64", "Distinct values among them (by keyed fingerprint)."),
                Column("confidence", "float64", "Highest confidence of a hit (0-1; context words nearby raise it)."),
                Column(
                    "masked_preview",
                    "string",
                    "Up to three masked examples (**** **** **** 4242); never a whole value.",
                ),
                Column(
                    "positions", "list<string>", "Character ranges start-end of the first hits, in the extracted text."
                ),
                Column(
                    "fingerprints",
                    "list<string>",
                    "Keyed hashes (HMAC-SHA256 under the lake's own key) of the distinct values, for de-duplication "
                    "across files; they cannot be reversed without the key.",
                ),
                Column("policies", "list<string>", "Policies this detector's hits helped break."),
            ),
            ("file_id", "scan_id", "detector"),
        ),
        Table(
            "posture_results",
            "runs",
            "Every evaluation of every posture rule (include/posture/) against an instance's settings snapshot: "
            "pass, fail or not evaluated with the reason; history kept. docs/posture.md.",
            (
                _APP,
                _INSTANCE,
                Column("rule_id", "string", "The rule's id: <app>.<file name> (okta.password_min_length).", True),
                Column(
                    "evaluation_id",
                    "string",
                    "The scan run's snapshot id: every rule of the instance evaluated together has the same.",
                    True,
                ),
                Column("evaluated_at", "timestamp", "When the rules were evaluated (UTC).", True),
                Column(
                    "settings_snapshot_id",
                    "string",
                    "The settings snapshot evaluated (settings.snapshot_id); null when there was none.",
                ),
                Column("settings_snapshot_at", "timestamp", "When that settings snapshot was taken."),
                Column("title", "string", "The rule's title.", True),
                Column("severity", "string", "high, medium or low.", True),
                Column("status", "string", "pass, fail or not_evaluated. A rule never passes on missing data.", True),
                Column(
                    "reason",
                    "string",
                    "Why not evaluated (permission missing, licence missing, not exposed by the API, stage never "
                    "run); null otherwise.",
                ),
                Column("detail", "string", "What the rule saw (the value that failed it, the count of admins)."),
                Column("baselines", "list<string>", "Baseline ids it maps to (MS.AAD.3.1v1, CIS GitHub 1.1.3, ...)."),
                Column(
                    "settings_read",
                    "list<string>",
                    "The settings (settings.setting_id) the rule reads: what a change event must have touched.",
                ),
                Column(
                    "change_events",
                    "list<string>",
                    "Activity actions (activities.action; * matches any run of characters) that change those "
                    "settings: posture_changes links a state change to them.",
                ),
                Column("muted", "bool", "A mute of include/posture.yaml applied when evaluated.", True),
                Column("mute_reason", "string", "The mute's reason."),
                Column("mute_expires", "timestamp", "The end of the mute's expiry date (UTC); muted until then."),
            ),
            ("rule_id", "evaluation_id"),
        ),
        Table(
            "activity_completeness",
            "runs",
            "How complete each scanned window of an activity stream is: events its first pass stored, and "
            "events later re-scans (the lookback) added to it: late arrivals. See docs/completeness.md.",
            (
                _APP,
                _INSTANCE,
                Column("stream", "string", "The connector's activity stream (system_log, sign_ins, ...).", True),
                Column(
                    "window_start",
                    "timestamp",
                    "Start of the window's own span: the stream's high-water mark before the window was read "
                    "(the lookback re-read before it belongs to earlier windows).",
                    True,
                ),
                Column("window_end", "timestamp", "End of the window: now minus the stream's lag when read.", True),
                Column("pass", "string", "first (the scan that read the window first) or rescan (a later one).", True),
                Column("run_id", "string", "The run whose scan this row describes.", True),
                Column("scanned_at", "timestamp", "When the scan committed this row, with the stream's cursor.", True),
                Column(
                    "events_added",
                    "int64",
                    "Events with occurred_at in [window_start, window_end) this pass stored; for a rescan, "
                    "the late arrivals it found.",
                    True,
                ),
                Column(
                    "read_since",
                    "timestamp",
                    "Start of what the scan asked the provider for (window_start of its own window minus lookback).",
                ),
                Column("read_until", "timestamp", "End of what the scan asked the provider for."),
            ),
            ("stream", "window_start", "pass", "run_id"),
        ),
    )
}

SNAPSHOT_TABLES = tuple(name for name, t in TABLES.items() if t.kind == "snapshot")


def _arrow_type(name: str) -> pa.DataType:
    import pyarrow as pa

    return {
        "string": pa.string(),
        "bool": pa.bool_(),
        "int64": pa.int64(),
        "float64": pa.float64(),
        "timestamp": pa.timestamp("us", tz="UTC"),
        "list<string>": pa.list_(pa.string()),
    }[name]


@cache
def arrow_schema(table: str) -> pa.Schema:
    import pyarrow as pa

    spec = TABLES[table]
    return pa.schema([pa.field(c.name, _arrow_type(c.type), nullable=not c.required) for c in spec.columns])


def tables_markdown() -> str:
    """The canonical tables' part of docs/schema.md, generated from TABLES (the catalog adds its
    views and reference tables after it: saaslens.catalog.build.schema_markdown)."""
    lines = [
        "# Canonical tables",
        "",
        "Generated from `include/saaslens/lake/schema.py` by `saaslens schema-doc`; do not edit by hand.",
        "Every table is a DuckDB view of the same name in `<lake>/saaslens.duckdb` showing current state;",
        "snapshot tables also have `<table>_history` (every published snapshot) and `<table>_as_of(ts)`",
        "(the snapshot current at a point in time).",
        "",
    ]
    for table in TABLES.values():
        lines += [
            f"## {table.name}",
            "",
            table.description,
            "",
            f"Kind: {table.kind}. Key: {', '.join(table.key)} (per app, instance"
            + (", snapshot" if table.kind == "snapshot" else "")
            + ").",
            "",
            "| column | type | required | description |",
            "|---|---|---|---|",
        ]
        lines += [f"| {c.name} | {c.type} | {'yes' if c.required else ''} | {c.description} |" for c in table.columns]
        lines.append("")
    return "\n".join(lines)
