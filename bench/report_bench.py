"""The compliance report over a large generated lake, against the same findings in pandas.

A lake of --instances instances (apps in turn: okta, google_workspace, microsoft365, slack,
github) with --accounts accounts and --events activity events in all is written straight with
pyarrow in the lake's own layout (two accounts snapshots per instance, 45 days of events
partitioned by date, grants, files and shares, privileges, scan runs), so the catalog reads it as
it reads a scanned lake. Then, each phase in its own process (so peak RSS is its own):

- report:  `saaslens.reports.build.build_report` in full (catalog views, every finding, charts,
           HTML, CSV and Parquet per finding), the thing a user runs;
- duckdb:  the findings alone, through `saaslens.findings.run_finding`;
- pandas:  the same findings written with pandas (Parquet read with pyarrow, only the columns
           each needs, then pandas filters, merges and group-bys), the comparison.

Row counts of every finding must agree between DuckDB and pandas, or the run fails.

    .venv/bin/python bench/report_bench.py                           # 20 instances, 500k accounts, 10M events
    .venv/bin/python bench/report_bench.py --accounts 2000 --events 20000 --instances 4   # smoke size
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
APPS = ("okta", "google_workspace", "microsoft365", "slack", "github")
FILE_APPS = frozenset({"google_workspace", "microsoft365", "slack"})
EVENT_DAYS = 45
STATUSES = np.array(["active", "pending", "locked", "suspended", "deprovisioned"])
STATUS_P = [0.85, 0.03, 0.02, 0.05, 0.05]
TYPES = np.array(["member", "guest", "external", "service"])
TYPE_P = [0.92, 0.05, 0.02, 0.01]
CATEGORIES = np.array(["logon", "user", "admin", "file", "app"])
CATEGORY_P = [0.5, 0.2, 0.1, 0.15, 0.05]
ACTIONS = np.array(
    ["user.session.start", "user.account.update", "user.account.privilege.grant", "file.share", "app.auth"]
)
VISIBILITY = np.array(["private", "internal", "external", "public"])
VISIBILITY_P = [0.7, 0.2, 0.07, 0.03]
SCOPES = ["openid", "email", "profile", "files.read", "files.readwrite.all", "admin.directory.user", "mail.read"]
US = 1_000_000
HOSTILE = '<script>alert("pwned")</script> & <img src=x onerror=alert(1)>'


def instance_list(count: int) -> list[tuple[str, str]]:
    return [(APPS[i % len(APPS)], f"org{i:02d}") for i in range(count)]


def _snapshot_id(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def _ts(micros: np.ndarray) -> pa.Array:
    return pa.array(micros.astype("int64"), type=pa.timestamp("us", tz="UTC"))


def _strings(prefix: str, numbers: np.ndarray) -> pa.Array:
    return pc.binary_join_element_wise(prefix, pc.cast(pa.array(numbers), pa.string()), "")


def _write(root: Path, table_name: str, partition: str, data: dict[str, Any], name: str = "part-00000") -> None:
    from saaslens.lake.schema import arrow_schema

    schema = arrow_schema(table_name)
    length = max(len(v) for v in data.values() if not isinstance(v, str | bool | type(None)))
    columns = []
    for column_field in schema:
        value = data.get(column_field.name)
        if isinstance(value, pa.Array | pa.ChunkedArray):
            columns.append(pc.cast(value, column_field.type))
        elif isinstance(value, np.ndarray):
            columns.append(pa.array(value, type=column_field.type))
        else:  # a constant (or null) for every row
            nulls = pa.nulls(length, column_field.type)
            columns.append(nulls if value is None else pc.fill_null(nulls, pa.scalar(value, column_field.type)))
    path = root / table_name / partition
    path.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_arrays(columns, schema=schema), path / f"{name}.parquet")


def generate_lake(
    root: Path,
    instances: list[tuple[str, str]],
    *,
    accounts_per_instance: int,
    events_per_instance: int,
    now: datetime,
    seed: int = 7,
    failed: frozenset[tuple[str, str]] = frozenset(),
    stale: frozenset[tuple[str, str]] = frozenset(),
    hostile: bool = False,
) -> dict[str, int]:
    """Write a lake; `failed` instances' last users scan failed, `stale` ones last scanned 5 days ago."""
    from saaslens.connectors import registry
    from saaslens.lake.writer import Lake
    from saaslens.vocabulary import STAGE_TABLES

    rng = np.random.default_rng(seed)
    broad = _broad_scope_examples()
    now_us = int(now.timestamp() * US)
    people = max(accounts_per_instance * 2, 10)
    counts = {"accounts": 0, "activities": 0, "files": 0, "file_scans": 0, "app_permissions": 0}
    for app, name in instances:
        part = f"app={app}/instance={name}"
        n = accounts_per_instance
        person = rng.choice(people, size=n, replace=False)
        account_id = _strings(f"{name}-u", np.arange(n))
        email = _strings("person", person)
        email = pc.binary_join_element_wise(email, "@corp.example", "")
        display = _strings("Person ", person)
        if hostile:
            display = pa.array([HOSTILE, *display.to_pylist()[1:]])
        status = rng.choice(STATUSES, size=n, p=STATUS_P)
        account_type = rng.choice(TYPES, size=n, p=TYPE_P)
        is_admin = rng.random(n) < 0.01
        mfa = pa.array(rng.random(n) < 0.8) if app != "okta" else pa.nulls(n, pa.bool_())
        created = now_us - (rng.random(n) * 3 * 365 * 86400 * US).astype("int64")
        last_login = now_us - (rng.random(n) * 400 * 86400 * US).astype("int64")
        last_login_arr = pa.array(last_login, type=pa.timestamp("us", tz="UTC"), mask=rng.random(n) < 0.05)
        common = {
            "app": app,
            "instance": name,
            "account_id": account_id,
            "login": email,
            "email": email,
            "display_name": display,
            "status": status,
            "provider_status": status,
            "account_type": account_type,
            "mfa_enabled": mfa,
            "created_at": _ts(created),
            "last_login_at": last_login_arr,
            "updated_at": _ts(created),
        }
        # Two snapshots a day apart: admins over time, and privilege changes between them.
        previous_admin = is_admin ^ (rng.random(n) < 0.002)
        for moment, admins in (
            (now - timedelta(days=1, hours=1), previous_admin),
            (now - timedelta(hours=1), is_admin),
        ):
            sid = _snapshot_id(moment)
            data = {
                **common,
                "snapshot_id": sid,
                "snapshot_at": _ts(np.full(n, int(moment.timestamp() * US))),
                "is_admin": admins,
            }
            _write(root, "accounts", f"{part}/snapshot={sid}", data)
        newest = _snapshot_id(now - timedelta(hours=1))
        snap = {"snapshot_id": newest, "snapshot_at": _ts(np.full(1, int((now - timedelta(hours=1)).timestamp() * US)))}
        admin_index = np.flatnonzero(is_admin)
        if len(admin_index):
            _write(
                root,
                "privileges",
                f"{part}/snapshot={newest}",
                {
                    "app": app,
                    "instance": name,
                    "snapshot_id": newest,
                    "snapshot_at": _ts(np.full(len(admin_index), snap["snapshot_at"][0].value)),
                    "account_id": pc.take(account_id, pa.array(admin_index)),
                    "privilege_id": _strings(f"{name}-r", admin_index),
                    "privilege_name": np.full(len(admin_index), "SUPER_ADMIN"),
                    "assignment_type": np.full(len(admin_index), "direct"),
                },
            )
        grants = np.flatnonzero(rng.random(n) < 0.2)
        # Mostly ordinary scopes; about one grant in six also holds one of the app's broad scopes.
        choices = SCOPES + broad.get(app, [])[:3]
        weights = np.array([1.0] * len(SCOPES) + [0.6] * (len(choices) - len(SCOPES)))
        scope_lists = [
            list(rng.choice(choices, size=rng.integers(1, 4), replace=False, p=weights / weights.sum())) for _ in grants
        ]
        _write(
            root,
            "app_permissions",
            f"{part}/snapshot={newest}",
            {
                "app": app,
                "instance": name,
                "snapshot_id": newest,
                "snapshot_at": _ts(np.full(len(grants), snap["snapshot_at"][0].value)),
                "grant_id": _strings(f"{name}-g", grants),
                "account_id": pc.take(account_id, pa.array(grants)),
                "client_id": _strings("client-", grants % 40),
                "client_name": _strings("App ", grants % 40),
                "scopes": pa.array(scope_lists, type=pa.list_(pa.string())),
                "status": np.full(len(grants), "ACTIVE"),
                "source": np.full(len(grants), "user"),
                "created_at": _ts(created[grants]),
            },
        )
        counts["app_permissions"] += len(grants)
        if app in FILE_APPS:
            visibility = _write_files(root, rng, app, name, part, newest, snap, account_id, email, n // 2)
            counts["files"] += len(visibility)
            counts["file_scans"] += _write_scans(root, rng, app, name, visibility, now)
        counts["activities"] += _write_events(root, rng, app, name, part, email, now_us, events_per_instance)
        counts["accounts"] += n
        ended = now - (timedelta(days=5) if (app, name) in stale else timedelta(minutes=30))
        stages = registry.app_spec(app).stage_names
        statuses = ["failed" if (app, name) in failed and s == "users" else "success" for s in stages]
        ended_us = np.full(len(stages), int(ended.timestamp() * US))
        _write(
            root,
            "scan_runs",
            f"{part}/run_date={ended:%Y-%m-%d}",
            {
                "app": app,
                "instance": name,
                "run_id": np.full(len(stages), f"bench-{ended:%Y%m%dT%H%M}"),
                "stage": np.array(stages),
                "attempt": np.ones(len(stages), dtype="int64"),
                "started_at": _ts(ended_us - 60 * US),
                "ended_at": _ts(ended_us),
                "status": np.array(statuses),
                "snapshot_id": np.full(len(stages), newest),
                "records": np.array([n if STAGE_TABLES[s] else 0 for s in stages], dtype="int64"),
                "error": np.array(["HTTP 503 from the provider" if s == "failed" else None for s in statuses]),
            },
        )
    Lake(root).ensure_all_schema_files()
    return counts


def _broad_scope_examples() -> dict[str, list[str]]:
    """The broad scopes the apps declare (each app's scopes.py), per app."""
    from saaslens.findings import broad_scopes

    examples: dict[str, list[str]] = {}
    for app, scope, _why in broad_scopes():
        examples.setdefault(app, []).append(scope.replace("*", "users"))
    return examples


def _write_files(root, rng, app, name, part, newest, snap, account_id, email, count) -> np.ndarray:
    """Write the files and shares; return each file's visibility."""
    owner = rng.integers(0, len(account_id), size=count)
    visibility = rng.choice(VISIBILITY, size=count, p=VISIBILITY_P)
    when = _ts(np.full(count, snap["snapshot_at"][0].value))
    _write(
        root,
        "files",
        f"{part}/snapshot={newest}",
        {
            "app": app,
            "instance": name,
            "snapshot_id": newest,
            "snapshot_at": when,
            "file_id": _strings(f"{name}-f", np.arange(count)),
            "name": _strings("Document ", np.arange(count)),
            "path": _strings("/drive/", owner),
            "owner_id": pc.take(account_id, pa.array(owner)),
            "owner_email": pc.take(email, pa.array(owner)),
            "mime_type": np.full(count, "application/pdf"),
            "size_bytes": rng.integers(1_000, 5_000_000, size=count),
            "created_at": when,
            "modified_at": when,
            "visibility": visibility,
        },
    )
    exposed = np.flatnonzero(np.isin(visibility, ["external", "public"]))
    public = visibility[exposed] == "public"
    _write(
        root,
        "file_shares",
        f"{part}/snapshot={newest}",
        {
            "app": app,
            "instance": name,
            "snapshot_id": newest,
            "snapshot_at": _ts(np.full(len(exposed), snap["snapshot_at"][0].value)),
            "file_id": _strings(f"{name}-f", exposed),
            "share_id": _strings(f"{name}-s", exposed),
            "principal_type": np.where(public, "anyone", "user"),
            "principal_email": np.where(public, None, "partner@outside.example"),
            "role": np.full(len(exposed), "reader"),
            "is_external": ~public,
        },
    )
    return visibility


def _write_scans(root: Path, rng, app: str, name: str, visibility: np.ndarray, now: datetime) -> int:
    """Content-inspection rows for a fifth of the files and every public one: each scanned once or
    twice (the newer scan is the file's current state), a scan breaking zero to two policies of
    include/dlp_policies.yaml with a dlp_matches row per policy's first detector. Policy-free
    scans and stale broken ones test that the findings read only the newest scan."""
    from saaslens.dlp.policies import load_policies
    from saaslens.lake.writer import atomic_write, to_arrow

    policies = load_policies().policies
    scans: list[dict[str, Any]] = []
    matches: list[dict[str, Any]] = []
    files = len(visibility)
    chosen = set(rng.choice(files, size=max(files // 5, 1), replace=False).tolist())
    for index in sorted(chosen | set(np.flatnonzero(visibility == "public").tolist())):
        file_id = f"{name}-f{index}"
        for rescan in range(int(rng.integers(1, 3))):
            when = now - timedelta(hours=2 - rescan)
            scan_id = f"{file_id}-scan{rescan}"
            broken = [policies[int(k)] for k in rng.choice(len(policies), size=int(rng.integers(0, 3)), replace=False)]
            scans.append(
                {
                    "app": app,
                    "instance": name,
                    "file_id": file_id,
                    "content_version": f"v{rescan}",
                    "scan_id": scan_id,
                    "run_id": "bench",
                    "trigger": "periodic",
                    "scanned_at": when,
                    "status": "scanned",
                    "visibility": "private",
                    "matches": 3 * len(broken),
                    "policies": [p.id for p in broken],
                    "policy_version": "bench",
                }
            )
            matches.extend(
                {
                    "app": app,
                    "instance": name,
                    "file_id": file_id,
                    "scan_id": scan_id,
                    "scanned_at": when,
                    "detector": policy.detectors[0],
                    "severity": policy.severity,
                    "count": 3,
                    "masked_preview": "****",
                    "policies": [policy.id],
                }
                for policy in broken
            )
    for table, rows in (("dlp_matches", matches), ("file_scans", scans)):
        if rows:
            directory = root / table / f"app={app}" / f"instance={name}" / f"scan_date={now:%Y-%m-%d}"
            atomic_write(directory / "bench.parquet", to_arrow(table, rows))
    return len(scans)


def _write_events(root, rng, app, name, part, email, now_us, total) -> int:
    per_day = np.full(EVENT_DAYS, total // EVENT_DAYS)
    per_day[: total - per_day.sum()] += 1
    day0 = (now_us // (86400 * US)) * 86400 * US - (EVENT_DAYS - 1) * 86400 * US
    ips = pc.binary_join_element_wise("10.0.", pc.cast(pa.array(np.arange(2000) // 250), pa.string()), "")
    ips = pc.binary_join_element_wise(ips, ".", pc.cast(pa.array(np.arange(2000) % 250), pa.string()), "")
    offset = 0
    for day, n in enumerate(per_day):
        start = day0 + day * 86400 * US
        span = min(86400 * US, now_us - start)
        occurred = start + (rng.random(n) * span).astype("int64")
        category = rng.choice(len(CATEGORIES), size=n, p=CATEGORY_P)
        failure = (category == 0) & (rng.random(n) < 0.06)
        actor = rng.integers(0, len(email), size=n)
        ip = rng.integers(0, 2000, size=n)
        if day >= EVENT_DAYS - 7 and n >= 60:
            # A spike a day in the last week: one account and one IP failing many times in one hour.
            burst = slice(0, 30)
            occurred[burst] = start + 3600 * US * 3 + rng.integers(0, 3600 * US, size=30)
            occurred[burst] = np.minimum(occurred[burst], now_us - 1)
            category[burst], failure[burst], actor[burst], ip[burst] = 0, True, day % len(email), 7
        occurred_arr = _ts(occurred)
        actor_login = pc.take(email, pa.array(actor))
        _write(
            root,
            "activities",
            f"{part}/event_date={datetime.fromtimestamp(start / US, UTC):%Y-%m-%d}",
            {
                "app": app,
                "instance": name,
                "event_date": pc.strftime(occurred_arr, "%Y-%m-%d"),
                "event_id": _strings(f"{name}-e", np.arange(offset, offset + n)),
                "occurred_at": occurred_arr,
                "category": CATEGORIES[category],
                "action": ACTIONS[category],
                "outcome": np.where(failure, "failure", "success"),
                "outcome_reason": np.where(failure, "INVALID_CREDENTIALS", None),
                "actor_id": pc.cast(pa.array(actor), pa.string()),
                "actor_login": actor_login,
                "actor_type": "User",
                "target_name": None,
                "ip": pc.take(ips, pa.array(ip)),
                "user_agent": "Mozilla/5.0 (X11; Linux x86_64)",
                "country": "US",
                "ingested_at": _ts(np.full(n, now_us)),
            },
        )
        offset += n
    return offset


# -- the same findings in pandas ---------------------------------------------------------------


def _read(root: Path, table: str, columns: list[str]):
    """Every Parquet file of a table (as the catalog's glob does), only `columns`, as pandas."""
    files = [p for p in sorted((root / table).rglob("*.parquet")) if p.name != "_schema.parquet"]
    if not files:
        from saaslens.lake.schema import arrow_schema

        return arrow_schema(table).empty_table().select(columns).to_pandas()
    return pa.concat_tables([pq.read_table(f, columns=columns) for f in files]).to_pandas()


def _current(frame):
    newest = frame.groupby(["app", "instance"])["snapshot_id"].transform("max")
    return frame[frame["snapshot_id"] == newest]


def pandas_findings(root: Path, now: datetime, params: dict[str, dict[str, Any]]) -> dict[str, int]:
    """Row counts of each finding, computed with pandas the way the SQL files define them."""
    import pandas as pd

    key = ["app", "instance", "account_id"]
    history = _read(
        root,
        "accounts",
        [
            *key,
            "snapshot_id",
            "login",
            "email",
            "display_name",
            "status",
            "account_type",
            "is_admin",
            "mfa_enabled",
            "created_at",
            "last_login_at",
        ],
    )
    accounts = _current(history)
    admin = accounts["is_admin"].fillna(False).astype(bool)
    out: dict[str, int] = {}

    privileges = _current(_read(root, "privileges", [*key, "snapshot_id", "privilege_name"]))
    roles = privileges.groupby(key)["privilege_name"].agg(lambda s: ", ".join(sorted(set(s)))).rename("privileges")
    out["privileged_accounts"] = len(accounts[admin].merge(roles, on=key, how="left"))
    out["admins_without_mfa"] = int((admin & accounts["mfa_enabled"].eq(False).fillna(False).astype(bool)).sum())
    out["external_accounts"] = int(
        (accounts["account_type"].isin(["guest", "external"]) & (accounts["status"] != "deprovisioned")).sum()
    )
    dormant_days = int(params.get("dormant_accounts", {}).get("dormant_days", 90))
    since = pd.Timestamp(now) - pd.Timedelta(days=dormant_days)
    last = accounts["last_login_at"]
    dormant = (accounts["status"] == "active") & ((last < since) | (last.isna() & (accounts["created_at"] < since)))
    out["dormant_accounts"] = int(dormant.sum())

    grants = _current(
        _read(root, "app_permissions", ["app", "instance", "snapshot_id", "grant_id", "account_id", "scopes"])
    )
    inactive = accounts[accounts["status"].isin(["suspended", "deprovisioned"])][key]
    out["grants_of_inactive_accounts"] = len(grants.merge(inactive, on=key, how="inner"))

    files = _current(_read(root, "files", ["app", "instance", "snapshot_id", "file_id", "visibility"]))
    shares = _current(
        _read(
            root,
            "file_shares",
            ["app", "instance", "snapshot_id", "file_id", "principal_type", "principal_email", "role", "is_external"],
        )
    )
    exposed = files[files["visibility"].isin(["public", "external"])]
    to = shares.assign(who=shares["principal_email"].fillna(shares["principal_type"]) + " (" + shares["role"] + ")")
    to = to.groupby(["app", "instance", "file_id"])["who"].agg(lambda s: ", ".join(sorted(set(s))))
    out["exposed_files"] = len(exposed.merge(to.rename("exposed_to"), on=["app", "instance", "file_id"], how="left"))

    ranked = history.assign(
        rank=history.groupby(["app", "instance"])["snapshot_id"].rank(method="dense", ascending=False)
    )
    newest, previous = ranked[ranked["rank"] == 1], ranked[ranked["rank"] == 2]
    both = newest.merge(previous, on=key, how="outer", suffixes=("_n", "_p"), indicator=True)
    both = both[both.set_index(["app", "instance"]).index.isin(previous.set_index(["app", "instance"]).index.unique())]
    n_admin, p_admin = both["is_admin_n"], both["is_admin_p"]
    added = (n_admin == True) & (both["_merge"].eq("left_only") | (p_admin == False))  # noqa: E712
    removed = (p_admin == True) & (both["_merge"].eq("right_only") | (n_admin == False))  # noqa: E712
    out["privilege_changes"] = int((added | removed).sum())

    spike = params.get("failed_signin_spikes", {})
    threshold, days = int(spike.get("threshold", 10)), int(spike.get("days", 7))
    events = _read(
        root,
        "activities",
        ["app", "instance", "occurred_at", "category", "outcome", "target_name", "actor_login", "ip"],
    )
    window = (events["occurred_at"] >= pd.Timestamp(now) - pd.Timedelta(days=days)) & (
        events["occurred_at"] <= pd.Timestamp(now)
    )
    failures = events[(events["category"] == "logon") & (events["outcome"] == "failure") & window].copy()
    failures["account"] = failures["target_name"].fillna(failures["actor_login"])
    failures["hour"] = failures["occurred_at"].dt.floor("h")
    spikes = 0
    for subject, other in (("account", "ip"), ("ip", "account")):
        rows = failures[failures[subject].notna()]
        grouped = rows.groupby(["app", "instance", subject, "hour"]).agg(
            failures=(other, "size"), counterparts=(other, "nunique")
        )
        spikes += int((grouped["failures"] >= threshold).sum())
    out["failed_signin_spikes"] = spikes

    # Broad grants: a grant holding any scope of its app's broad-scope list, spelled exactly as listed.
    from saaslens.findings import broad_scopes

    listed = pd.DataFrame(
        [(app, scope) for app, scope, _why in broad_scopes()],
        columns=["app", "scope"],
    ).drop_duplicates()
    exploded = grants.explode("scopes").dropna(subset=["scopes"]).rename(columns={"scopes": "scope"})
    matched = exploded.merge(listed, on=["app", "scope"])
    out["broad_oauth_grants"] = int(matched[["app", "instance", "grant_id"]].drop_duplicates().shape[0])

    # Orphaned accounts, through the same identity graph as the catalog's identities view: keys are
    # email-shaped values (primary email; Okta and Entra sign-in names), lowercased and trimmed;
    # accounts sharing a key are one person, transitively (label propagation to a fixpoint). The
    # raw-JSON aliases the view also reads are null in the generated lake, so they are left out.
    out["orphaned_accounts"] = _pandas_orphaned(accounts)
    out.update(_pandas_dlp(root, files))
    return out


def _pandas_dlp(root: Path, files) -> dict[str, int]:
    """The two content-inspection findings: a row per (file, policy) its newest scan breaks, and the
    files among them public now under a policy that asks to remove the public link."""
    from saaslens.dlp.policies import load_policies

    scans = _read(root, "file_scans", ["app", "instance", "file_id", "scan_id", "scanned_at", "policies"])
    newest = scans.sort_values(["scanned_at", "scan_id"]).groupby(["app", "instance", "file_id"]).tail(1)
    broken = newest.explode("policies").dropna(subset=["policies"]).rename(columns={"policies": "policy"})
    broken = broken[["app", "instance", "file_id", "policy"]].drop_duplicates()
    unlink = {p.id for p in load_policies().policies if "remove_public_link" in {str(a) for a in p.actions}}
    public = broken[broken["policy"].isin(unlink)].merge(
        files[files["visibility"] == "public"][["app", "instance", "file_id"]], on=["app", "instance", "file_id"]
    )
    return {
        "dlp_policy_violations": len(broken),
        "sensitive_files_with_public_links": len(public[["app", "instance", "file_id"]].drop_duplicates()),
    }


def _pandas_orphaned(accounts) -> int:
    import pandas as pd

    key = ["app", "instance", "account_id"]
    frame = accounts.reset_index(drop=True)
    frame["node"] = frame.index
    sources = [frame[["node", "email"]].rename(columns={"email": "value"})]
    named_by_login = frame["app"].isin(["okta", "microsoft365"])
    sources.append(frame.loc[named_by_login, ["node", "login"]].rename(columns={"login": "value"}))
    keys = pd.concat(sources).dropna()
    keys = keys[keys["value"].str.match(r".+@.+") & ~keys["value"].str.lower().str.contains("#ext#", regex=False)]
    keys = keys.assign(key=keys["value"].str.strip().str.lower())[["node", "key"]].drop_duplicates()
    label = keys.groupby("node")["key"].min()
    while True:
        by_key = keys.assign(label=keys["node"].map(label)).groupby("key")["label"].min()
        moved = keys.assign(label=keys["key"].map(by_key)).groupby("node")["label"].min()
        if moved.equals(label):
            break
        label = moved
    frame["component"] = frame["node"].map(label)
    linked = frame[frame["component"].notna()]
    idp = linked["app"].isin(["okta", "google_workspace", "microsoft365"])
    disabled = linked[idp & linked["status"].isin(["suspended", "deprovisioned"])][["component", "app", "instance"]]
    active = linked[linked["status"] == "active"]
    pairs = active.merge(disabled, on="component", suffixes=("", "_idp"))
    pairs = pairs[(pairs["app"] != pairs["app_idp"]) | (pairs["instance"] != pairs["instance_idp"])]
    return int(pairs[key].drop_duplicates().shape[0])


def duckdb_findings(root: Path, now: datetime) -> dict[str, int]:
    from saaslens.findings import load_findings, run_finding
    from saaslens.reports.build import open_catalog

    with open_catalog(root) as con:
        counts = {}
        for finding in load_findings():
            given = {"as_of": now.isoformat()} if "as_of" in finding.params else {}
            counts[finding.id] = run_finding(con, finding, given).num_rows
    return counts


# -- phases, each in its own process -------------------------------------------------------------


def _phase(name: str, root: Path, now: datetime) -> dict[str, Any]:
    started = time.perf_counter()
    if name == "report":
        from saaslens.reports.build import build_report

        out = Path(tempfile.mkdtemp(prefix="report-bench-")) / now.date().isoformat()
        result = build_report(root, now=now, out_dir=out)
        extra = {
            "counts": result.counts,
            "failed": result.failed_findings,
            "timings": result.timings,
            "html_bytes": result.html.stat().st_size,
        }
        shutil.rmtree(out.parent, ignore_errors=True)
    elif name == "duckdb":
        extra = {"counts": duckdb_findings(root, now)}
    elif name == "pandas":
        extra = {"counts": pandas_findings(root, now, {})}
    else:
        raise SystemExit(f"unknown phase {name!r}")
    wall = time.perf_counter() - started
    return {"phase": name, "wall_s": round(wall, 2), "peak_rss_mb": _peak_rss_mb(), **extra}


def _peak_rss_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def _run_phase(name: str, root: Path, now: datetime) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--phase", name, "--lake", str(root), "--now", now.isoformat()],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"phase {name} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instances", type=int, default=20)
    parser.add_argument("--accounts", type=int, default=500_000, help="accounts in all (current snapshot)")
    parser.add_argument("--events", type=int, default=10_000_000, help="activity events in all")
    parser.add_argument("--lake", help="where to write the lake (default: a temporary directory, removed after)")
    parser.add_argument("--keep", action="store_true", help="keep the generated lake")
    parser.add_argument("--reuse", action="store_true", help="use the lake at --lake as it is")
    parser.add_argument("--out", help="write the results as JSON here")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--now", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "include"))
    if args.phase:
        print(json.dumps(_phase(args.phase, Path(args.lake), datetime.fromisoformat(args.now))))
        return 0

    now = datetime.now(UTC).replace(microsecond=0)
    root = Path(args.lake) if args.lake else Path(tempfile.mkdtemp(prefix="report-bench-lake-"))
    instances = instance_list(args.instances)
    generated: dict[str, Any] = {}
    try:
        if not args.reuse:
            shutil.rmtree(root, ignore_errors=True)
            started = time.perf_counter()
            counts = generate_lake(
                root,
                instances,
                accounts_per_instance=args.accounts // args.instances,
                events_per_instance=args.events // args.instances,
                now=now,
                failed=frozenset(instances[1:2]),
                stale=frozenset(instances[2:3]),
            )
            generated = {"seconds": round(time.perf_counter() - started, 1), **{k: int(v) for k, v in counts.items()}}
            print(f"generated {counts} in {generated['seconds']} s at {root}", file=sys.stderr)
        phases = {name: _run_phase(name, root, now) for name in ("report", "duckdb", "pandas")}
    finally:
        if not (args.keep or args.lake):
            shutil.rmtree(root, ignore_errors=True)
    compared = sorted(phases["pandas"]["counts"])
    mismatched = {
        f: (phases["duckdb"]["counts"].get(f), phases["pandas"]["counts"][f])
        for f in compared
        if phases["duckdb"]["counts"].get(f) != phases["pandas"]["counts"][f]
        or phases["report"]["counts"].get(f) != phases["pandas"]["counts"][f]
    }
    summary = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "date": now.isoformat(),
        "instances": args.instances,
        "generated": generated,
        "phases": phases,
        "compared_findings": compared,
        "mismatched": mismatched,
        "pandas_over_report": round(phases["pandas"]["wall_s"] / phases["report"]["wall_s"], 1),
        "pandas_over_duckdb_findings": round(phases["pandas"]["wall_s"] / phases["duckdb"]["wall_s"], 1),
    }
    print("| phase | wall | peak RSS |\n|---|---:|---:|")
    for name, phase in phases.items():
        print(f"| {name} | {phase['wall_s']:.1f} s | {phase['peak_rss_mb']:,} MB |")
    print(
        f"pandas / full report: {summary['pandas_over_report']}x; "
        f"pandas / DuckDB findings: {summary['pandas_over_duckdb_findings']}x"
    )
    print("rows per finding:", json.dumps(phases["report"]["counts"]))
    if args.out:
        Path(args.out).write_text(json.dumps(summary, indent=2, default=str))
    if mismatched:
        print(f"findings disagree (duckdb, pandas): {mismatched}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
