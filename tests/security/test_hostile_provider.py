"""Every connector against a hostile provider (saaslens_sandbox.hostile), in its own paging style.

Each test syncs a small, faithful tenant's `authenticate` stage, turns the tenant hostile, then
runs the stage that reads the attacked listing through `run_stage`, exactly as an Airflow task
does. What must hold is the issue's: no credential goes anywhere but the provider's own origin
over an allowed scheme, nothing partial is published, every scan ends (and soon), memory stays
bounded, and no secret is written to disk.
"""

from __future__ import annotations

import http.server
import json
import os
import stat
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import yaml

from bench.sync_throughput import connection_for
from saaslens.config import InstanceConfig
from saaslens.connections import ConnectionInfo
from saaslens.lake.writer import Lake, snapshot_id_for
from saaslens.runner import CredentialsRejected, RunContext, StageFailed, StageResult, run_stage
from saaslens_sandbox.core import SandboxServer, TenantSpec
from saaslens_sandbox.hostile import Attack, HostileConfig, paging_styles
from tests.e2e.okta_helpers import ANCHOR

pytestmark = pytest.mark.integration

PAGING = paging_styles()  # each personality declares how it pages
APPS = sorted(PAGING)
TENANT = "hostile"
USERS = 12
# Small pages so every listing has several; a checkpoint after every page where a stage has them.
OPTIONS: dict[str, Any] = {
    "page_size": 5,
    "checkpoint_rows": 5,
    "max_workers": 1,
    "retry_max_attempts": 2,
    "retry_initial_backoff_seconds": 0.05,
    "read_timeout_seconds": 3,
    "request_deadline_seconds": 5,
    "max_throttle_wait_seconds": 30,
}
TRAVERSAL_APPS = [app for app in APPS if PAGING[app].group_listing]
LINK_APPS = [app for app in APPS if PAGING[app].kind != "body_cursor"]
# RPC APIs (Dropbox) whose listings are POSTs: the HTTP layer follows no redirect of a POST, which
# would send its body again somewhere (saaslens.http.urls.redirect_target).
GET_APPS = [app for app in APPS if PAGING[app].cursor_body_field is None]
POST_APPS = [app for app in APPS if PAGING[app].cursor_body_field is not None]


class Recorder(http.server.BaseHTTPRequestHandler):
    """Another origin on loopback: a credential that follows a redirect would arrive here."""

    seen: list[dict[str, Any]] = []

    def _record(self) -> None:
        Recorder.seen.append({"path": self.path, "headers": dict(self.headers)})
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(b"[]")

    do_GET = do_POST = _record

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    specs = [
        TenantSpec(app=app, name=TENANT, seed=5, users=USERS, options={"anchor": ANCHOR.isoformat()}) for app in APPS
    ]
    with SandboxServer(specs) as running:
        yield running


@pytest.fixture(scope="module")
def elsewhere() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/stolen"
    httpd.shutdown()


@pytest.fixture
def tenant(server: SandboxServer, tmp_path: Path) -> Iterator[Tenant]:
    made: list[Tenant] = []

    def make(app: str) -> Tenant:
        made.append(Tenant(server, app, tmp_path / f"lake-{app}-{len(made)}"))
        return made[-1]

    yield make  # type: ignore[misc]
    for each in made:
        each.personality.set_hostile(None)


class Tenant:
    def __init__(self, server: SandboxServer, app: str, lake_root: Path) -> None:
        self.server = server
        self.app = app
        self.personality = server.personality(app, TENANT)
        self.truth = self.personality.ground_truth()
        self.lake_root = lake_root
        self.lake = Lake(lake_root)
        self.connection: ConnectionInfo = connection_for(
            app,
            server.tenant_url(app, TENANT),
            self.truth["credentials"],
            (self.truth.get("org") or {}).get("login"),
        )
        self.instance = InstanceConfig(app=app, name=TENANT, conn_id=f"{app}_{TENANT}", options=dict(OPTIONS))
        self.ctx = RunContext(run_id=f"hostile-{app}", snapshot_id=snapshot_id_for(datetime.now(UTC)))
        assert self.run("authenticate").status == "success"

    def run(self, stage: str) -> StageResult:
        """The stage's outcome as a StageResult; a failure (raised for Airflow) becomes one too."""
        try:
            return run_stage(self.instance, stage, self.ctx, self.lake, connection=self.connection)
        except (StageFailed, CredentialsRejected) as exc:
            return StageResult(f"{self.app}/{TENANT}", stage, "failed", detail=str(exc))

    def attack(self, attack: Attack, **options: Any) -> None:
        self.personality.set_hostile(HostileConfig(attack=attack, **options))
        self.server.app.state.request_log.clear()

    def attacked_stage(self, attack: Attack) -> str:
        return "groups" if attack is Attack.TRAVERSAL_ID else "users"

    def published(self, table: str) -> list[str]:
        return self.lake.snapshot_ids(table, self.app, TENANT)

    def requests(self) -> list[dict[str, Any]]:
        return list(self.server.app.state.request_log)


def _refused(result: StageResult, *words: str) -> None:
    """The stage failed (not a success with 0 rows) with a message that says why."""
    assert result.status == "failed", result
    detail = (result.detail or "").lower()
    assert any(word in detail for word in words), f"{result.detail!r} names none of {words}"
    for leak in ("attributeerror", "typeerror", "keyerror", "traceback"):
        assert leak not in detail, result.detail


# -- 6: redirects, empty answers -------------------------------------------------------------------


@pytest.mark.parametrize("app", APPS)
def test_a_redirect_to_another_origin_is_refused_and_no_credential_follows(app, tenant, elsewhere):
    t = tenant(app)
    Recorder.seen.clear()
    t.attack(Attack.REDIRECT_OFF_ORIGIN, redirect_to=elsewhere)
    result = t.run("users")
    _refused(result, "redirect")
    assert Recorder.seen == [], "a request followed the redirect to another origin"
    assert t.published("accounts") == []


@pytest.mark.parametrize("app", GET_APPS)
def test_a_redirect_on_the_same_origin_is_followed(app, tenant):
    faithful = tenant(app).run("users")
    assert faithful.status == "success" and faithful.records > 0, faithful
    t = tenant(app)
    t.attack(Attack.REDIRECT_SAME_ORIGIN)
    result = t.run("users")
    assert result.status == "success", result
    assert result.records == faithful.records
    assert any("hostile_redirected" in r["query"] for r in t.requests())


@pytest.mark.parametrize("app", POST_APPS)
def test_a_redirect_of_a_posted_listing_is_refused_even_on_the_same_origin(app, tenant):
    t = tenant(app)
    t.attack(Attack.REDIRECT_SAME_ORIGIN)
    result = t.run("users")
    _refused(result, "redirect of a post")
    assert not any("hostile_redirected" in r["query"] for r in t.requests()), "the POST was sent again"
    assert t.published("accounts") == []


@pytest.mark.parametrize("attack", [Attack.NO_CONTENT, Attack.EMPTY_BODY, Attack.NULL_BODY])
@pytest.mark.parametrize("app", APPS)
def test_an_empty_answer_is_not_an_empty_listing(app, attack, tenant):
    t = tenant(app)
    t.attack(attack)
    result = t.run("users")
    _refused(result, "empty", "204", "null", "no body", "expected")
    assert t.published("accounts") == [], "an empty answer was published as a snapshot"


@pytest.mark.parametrize("shape", ["items_not_a_list", "item_not_an_object"])
@pytest.mark.parametrize("app", APPS)
def test_a_page_of_the_wrong_shape_is_a_malformed_response(app, shape, tenant):
    t = tenant(app)
    t.attack(Attack.WRONG_SHAPE, shape=shape)
    result = t.run("users")
    _refused(result, "malformed", "expected", "shape", "not a list", "object")
    assert t.published("accounts") == []


# -- 7: scans that never end ---------------------------------------------------------------------


@pytest.mark.parametrize("app", APPS)
def test_a_next_link_that_loops_is_detected(app, tenant):
    t = tenant(app)
    t.attack(Attack.SELF_LOOP)
    started = time.monotonic()
    result = t.run("users")
    _refused(result, "loop", "repeat", "again", "already")
    assert time.monotonic() - started < 30
    listing = [r for r in t.requests() if r["credentialed"]]
    assert len(listing) < 20, f"{len(listing)} requests before the loop was noticed"
    assert t.published("accounts") == []


@pytest.mark.parametrize("app", APPS)
def test_a_dripping_response_is_cut_at_the_request_deadline(app, tenant):
    t = tenant(app)
    t.attack(Attack.DRIP, drip_seconds=0.5)  # each byte within the 3 s read timeout
    started = time.monotonic()
    result = t.run("users")
    elapsed = time.monotonic() - started
    _refused(result, "deadline", "timed out", "timeout", "took longer")
    # two attempts of at most the 5 s deadline each, plus backoff
    assert elapsed < 2 * OPTIONS["request_deadline_seconds"] + 10, elapsed


@pytest.mark.parametrize("app", APPS)
def test_a_throttle_reset_decades_ahead_fails_at_once(app, tenant):
    t = tenant(app)
    t.attack(Attack.FAR_RESET)
    started = time.monotonic()
    result = t.run("users")
    assert time.monotonic() - started < 15
    _refused(result, "wait", "throttl", "rate limit")
    assert "max_throttle_wait" in (result.detail or "")


# -- 8: sizes -------------------------------------------------------------------------------------


@pytest.mark.parametrize("app", APPS)
def test_a_gzip_bomb_is_refused_without_inflating_it(app, tenant):
    t = tenant(app)
    t.attack(Attack.GZIP_BOMB, bomb_megabytes=400)
    tracemalloc.start()
    try:
        result = t.run("users")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    _refused(result, "bytes", "size", "larger", "too large", "limit")
    assert peak < 100 * 2**20, f"peak {peak / 2**20:.0f} MiB while refusing a 400 MiB body"


@pytest.mark.parametrize("app", APPS)
def test_a_page_larger_than_the_cap_is_refused(app, tenant):
    t = tenant(app)
    t.attack(Attack.HUGE_PAGE, huge_megabytes=52)  # the review's page, against the default cap
    result = t.run("users")
    _refused(result, "bytes", "size", "larger", "too large", "limit")
    assert t.published("accounts") == []


# -- 4: ids that walk out of the path ------------------------------------------------------------


@pytest.mark.parametrize("app", TRAVERSAL_APPS)
def test_a_provider_id_never_leaves_its_path_segment(app, tenant):
    t = tenant(app)
    t.attack(Attack.TRAVERSAL_ID)
    t.run("groups")  # may fail (the provider knows no such group); it must not walk out
    prefix = f"/{app}/{TENANT}/"
    requests = t.requests()
    assert requests, "the stage made no request"
    for request in requests:
        raw = request["raw_path"]
        assert raw.startswith(prefix), f"request left the tenant's base path: {raw}"
        assert "/x" not in raw and "?y=" not in raw, f"the hostile id was not kept in one segment: {raw}"
        assert "/../" not in raw and not raw.endswith("/..")
    encoded = [r["raw_path"] for r in requests if "..%2F..%2Fx%3Fy%3D" in r["raw_path"]]
    assert encoded, "no request carried the id as one percent-encoded segment"


# -- 5 and 12: secrets written to disk -----------------------------------------------------------


def _stored_bytes(root: Path) -> Iterator[tuple[Path, bytes]]:
    for path in root.rglob("*"):
        if path.is_file():
            yield path, path.read_bytes()
            if path.suffix == ".parquet":  # pages are compressed: also search the values
                yield path, json.dumps(pq.read_table(path).to_pylist(), default=str).encode()


def _assert_private(root: Path) -> None:
    for path in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        if path.is_dir():
            assert mode & 0o077 == 0, f"{path} is {oct(mode)}: the lake holds personal data"
        else:
            assert mode & 0o077 == 0, f"{path} is {oct(mode)}"


@pytest.mark.parametrize("app", APPS)
def test_a_secret_in_a_next_link_is_never_written(app, tenant):
    t = tenant(app)
    secret = t.connection.password or t.connection.extra.get("client_secret") or "hostile-secret-0123456789"
    # Stop the listing at its third page, so its checkpoint (the next request) stays on disk.
    t.attack(Attack.SECRET_IN_NEXT_LINK, secret=secret, fail_after=2)
    result = t.run("users")
    assert result.status == "failed", result
    for path, data in _stored_bytes(t.lake_root):
        assert secret.encode() not in data, f"{path.relative_to(t.lake_root)} holds the connection's secret"


@pytest.mark.parametrize("app", LINK_APPS)
def test_a_token_in_a_next_link_is_never_written(app, tenant):
    t = tenant(app)
    token = "ya29.hostile-access-token-never-registered"
    t.attack(Attack.SECRET_IN_NEXT_LINK, secret=token, fail_after=2)
    assert t.run("users").status == "failed"
    for path, data in _stored_bytes(t.lake_root):
        assert token.encode() not in data, f"{path.relative_to(t.lake_root)} holds a token from a next link"


@pytest.mark.parametrize("app", APPS)
def test_a_secret_echoed_in_provider_data_is_not_stored(app, tenant):
    t = tenant(app)
    secret = t.connection.password or t.connection.extra.get("client_secret")
    assert secret
    t.attack(Attack.ECHO_SECRET, secret=secret)
    result = t.run("users")
    assert result.status == "success", result
    for path, data in _stored_bytes(t.lake_root):
        assert secret.encode() not in data, f"{path.relative_to(t.lake_root)} holds the echoed secret"
    old = os.umask(0o022)
    try:
        _assert_private(t.lake_root)
    finally:
        os.umask(old)


# -- 10: provider text on a terminal -------------------------------------------------------------


def _cli(t: Tenant, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "apps.yaml"
    config.write_text(
        yaml.safe_dump({"instances": [{"app": t.app, "name": TENANT, "conn_id": "hostile", "options": OPTIONS}]})
    )
    c = t.connection
    connection = {"conn_type": c.conn_type, "host": c.host, "login": c.login, "password": c.password, "extra": c.extra}
    env = {
        **os.environ,
        "SAASLENS_CONFIG": str(config),
        "SAASLENS_LAKE": str(t.lake_root),
        "AIRFLOW_CONN_HOSTILE": json.dumps({k: v for k, v in connection.items() if v is not None}),
        "COLUMNS": "200",
    }
    return subprocess.run(
        [sys.executable, "-m", "saaslens.cli", *args], capture_output=True, text=True, timeout=300, env=env, check=False
    )


def _assert_inert(output: str) -> None:
    for raw in ("\x1b", "\u202e", "\x9b"):
        assert raw not in output, f"{raw!r} reached the terminal: {output!r}"
    assert "MarkupError" not in output and "Traceback" not in output, output


# Providers whose role names come from the provider (GitHub's and Slack's are fixed words): the
# listing the privileges stage reads them from, where its records are, and the name's field.
ROLE_LISTINGS = {
    # Okta: the connector stores a role by its type (SUPER_ADMIN, ..., CUSTOM), which it shows
    "okta": {"path": r"/api/v1/users/[^/]+/roles", "items": "", "text_field": "type"},
    "google_workspace": {
        "path": r"/admin/directory/v1/customer/[^/]+/roles",
        "items": "items",
        "text_field": "roleName",
    },
    "microsoft365": {"path": r"/v1.0/directoryRoles", "items": "value", "text_field": "displayName"},
}


@pytest.mark.parametrize("app", sorted(ROLE_LISTINGS))
def test_a_role_named_with_markup_and_escapes_is_inert_on_the_terminal(app, tenant, tmp_path):
    t = tenant(app)
    t.attack(Attack.MARKUP_TEXT, **ROLE_LISTINGS[app])
    synced = _cli(t, tmp_path, "sync", f"{app}/{TENANT}", "--stage", "users", "--stage", "privileges")
    assert synced.returncode == 0, synced.stdout + synced.stderr
    _assert_inert(synced.stdout + synced.stderr)
    summary = _cli(t, tmp_path, "summary")
    assert summary.returncode == 0, summary.stdout + summary.stderr
    _assert_inert(summary.stdout + summary.stderr)
    assert "[/]" in summary.stdout, "the role's name is not shown (escaped) in the summary"


@pytest.mark.parametrize("app", APPS)
def test_a_provider_error_with_markup_shows_the_real_error(app, tenant, tmp_path):
    t = tenant(app)
    t.attack(Attack.ERROR_MARKUP)
    synced = _cli(t, tmp_path, "sync", f"{app}/{TENANT}", "--stage", "users")
    output = synced.stdout + synced.stderr
    assert synced.returncode != 0
    _assert_inert(output)
    assert "400" in output and "bold" in output, f"the provider's error is not shown: {output!r}"


def test_every_registered_connector_is_attacked():
    """A personality without a declared paging style is left out of the attacks above; a connector
    saaslens ships must not be, or it would go untested against a hostile provider without a word."""
    from saaslens.connectors import registry

    assert set(registry.known_apps()) <= set(PAGING), sorted(set(registry.known_apps()) - set(PAGING))
