"""A connector shipped as its own package: found through the `saaslens.connectors` entry-point group,
run end to end into the catalog, with saaslens' source untouched (issue 11, item 4).

The package is written to a temporary directory, installed with pip into another one (never into
the shared environment), and every saaslens command runs in a subprocess with that directory on
PYTHONPATH, so importlib.metadata finds its dist-info as it would for a real installation. Its API is
a small HTTP server on 127.0.0.1 started here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import duckdb
import pytest
import yaml

pytestmark = pytest.mark.integration

TOKEN = "acme-token-5f2c9e1d7b"  # the test server's own
PAGE = 2

# The docs' worked example (docs/adding-a-connector.md), as a package of its own.
CONNECTOR = '''
"""Acme Directory: users and one control action, declared once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx

from saaslens.connectors.base import AuthReport, Connector
from saaslens.connectors.kit import (
    Action, ActionOutcome, ActionPlan, AppSpec, Batch, BroadScope, IdentityKey, OcsfMapping, PlannedRequest, Probe,
    SnapshotStage, Target, Verification,
)
from saaslens.http import api_path
from saaslens.http.auth import StaticTokenAuth
from saaslens.http.pagination import LinkHeaderPaginator
from saaslens.vocabulary import Capability, Stage, TargetKind


class AcmeDirectoryConnector(Connector):
    app = "acme_directory"
    title = "Acme Directory"

    def build_auth(self) -> httpx.Auth:
        return StaticTokenAuth(self.connection.require("password", "an Acme Directory API token"))

    def authenticate(self) -> AuthReport:
        me = self.client.get_json("/api/me")
        return AuthReport(
            identity=f"token of {me['name']}",
            permissions={scope: "GET /api/me" for scope in me["scopes"]},
            stages={"users": self.probe("users", "/api/users", {"limit": 1})},
        )


def account_row(user: dict[str, Any]) -> dict[str, Any]:
    return {
        "account_id": user["id"],
        "login": user["userName"],
        "email": user["email"].lower(),
        "display_name": user["name"],
        "status": "active" if user["active"] else "suspended",
        "provider_status": "ACTIVE" if user["active"] else "SUSPENDED",
        "account_type": "member",
        "is_admin": user["admin"],
    }


def scan_users(connector: AcmeDirectoryConnector, resume: dict[str, Any] | None) -> Iterator[Batch]:
    pages = connector.client.paginate("/api/users", LinkHeaderPaginator(), {"limit": connector.page_size(100)})
    for page in pages:
        yield Batch("accounts", [account_row(user) for user in page.items])


def plan_suspend(connector: AcmeDirectoryConnector, target: Target) -> ActionPlan:
    path = api_path("/api/users", target.keys["account_id"])
    user = connector.client.get_json(path)
    undo = ActionPlan("unsuspend_user", target, (PlannedRequest("POST", f"{path}/unsuspend"),))
    return ActionPlan(
        "suspend_user",
        target,
        (PlannedRequest("POST", f"{path}/suspend"),),
        before={"active": user["active"]},
        noop=not user["active"],
        undo=undo,
    )


def apply_suspend(connector: AcmeDirectoryConnector, plan: ActionPlan) -> ActionOutcome:
    if plan.noop:
        return ActionOutcome(plan, applied=False, detail="already suspended")
    for request in plan.requests:
        connector.client.request(request.method, request.path, json=dict(request.body or {}))
    return ActionOutcome(plan, applied=True, detail="suspended", applied_at=datetime.now(UTC))


def verify_suspend(connector: AcmeDirectoryConnector, outcome: ActionOutcome) -> Verification:
    user = connector.client.get_json(api_path("/api/users", outcome.plan.target.keys["account_id"]))
    return Verification(holds=not user["active"], after={"active": user["active"]})


APP = AppSpec(
    connector=AcmeDirectoryConnector,
    stages=(
        SnapshotStage(
            stage=Stage.USERS, scan=scan_users, permission="users:read", probe=Probe("/api/users", {"limit": 1})
        ),
    ),
    actions=(
        Action(
            name="suspend_user",
            target=TargetKind.ACCOUNT,
            permission="users:write",
            reversible=True,
            description="Suspend an account: it can no longer sign in; its data stays",
            docs="https://acme.example/docs/api/users#suspend",
            plan=plan_suspend,
            apply=apply_suspend,
            verify=verify_suspend,
        ),
    ),
    api_capabilities=frozenset({Capability.LIST_ACCOUNTS}),
    ocsf=(OcsfMapping("user.suspend", 3001, 5), OcsfMapping("user.signin", 3002, 1)),
    identity_keys=(IdentityKey("login", "[login]", "Acme's sign-in name is the person's corporate email."),),
    identity_provider="Acme SSO",
    broad_scopes=(BroadScope("users:write", "Suspend and change every account of the Acme org"),),
)
'''

PYPROJECT = """
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "{name}"
version = "0.1.0"

[project.entry-points."saaslens.connectors"]
{entry_points}

[tool.setuptools]
packages = ["{package}"]
"""


def build_and_install(tmp: Path, name: str, package: str, entry_points: str, source: str) -> Path:
    """Write a package and pip-install it into its own directory; returns that directory."""
    project = tmp / name
    (project / package).mkdir(parents=True)
    (project / "pyproject.toml").write_text(PYPROJECT.format(name=name, package=package, entry_points=entry_points))
    (project / package / "__init__.py").write_text(source)
    target = tmp / f"{name}-site"
    # As a user installs a plug-in (pip builds it with its declared backend), but into `target`:
    # the shared environment never sees it.
    install = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(project)]
    subprocess.run(install, check=True, capture_output=True, timeout=300)
    return target


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("plugins")
    good = build_and_install(
        tmp,
        "saaslens-acme-directory",
        "saaslens_acme_directory",
        # The second line tries to take a built-in app's name: ignored.
        'acme_directory = "saaslens_acme_directory:APP"\nokta = "saaslens_acme_directory:APP"',
        CONNECTOR,
    )
    broken = build_and_install(
        tmp,
        "saaslens-acme-broken",
        "saaslens_acme_broken",
        'acme_broken = "saaslens_acme_broken.missing:APP"',
        '"""A package whose entry point names a module it does not ship."""\n',
    )
    return {"good": good, "broken": broken}


class AcmeApi(BaseHTTPRequestHandler):
    """Acme Directory's API: GET /api/me, GET /api/users (Link-header pages), GET /api/users/<id>,
    POST /api/users/<id>/suspend; a bearer token on every request."""

    users: list[dict[str, Any]] = []

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: pytest shows what failed

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _authorized(self) -> bool:
        if self.headers.get("Authorization") == f"Bearer {TOKEN}":
            return True
        self._send(401, {"error": "invalid_token"})
        return False

    def _user(self, user_id: str) -> dict[str, Any] | None:
        return next((u for u in self.users if u["id"] == user_id), None)

    def do_GET(self) -> None:
        if not self._authorized():
            return
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        if url.path == "/api/me":
            self._send(200, {"name": "saaslens reader", "scopes": ["users:read", "users:write"]})
        elif url.path == "/api/users":
            limit = min(int(query.get("limit", ["100"])[0]), PAGE)
            start = int(query.get("offset", ["0"])[0])
            page = self.users[start : start + limit]
            more = start + limit < len(self.users)
            link = f'<http://{self.headers["Host"]}/api/users?limit={limit}&offset={start + limit}>; rel="next"'
            self._send(200, page, {"Link": link} if more else None)
        elif url.path.startswith("/api/users/") and (user := self._user(url.path.rsplit("/", 1)[1])):
            self._send(200, user)
        else:
            self._send(404, {"error": "not_found"})

    def do_POST(self) -> None:
        if not self._authorized():
            return
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        parts = urlsplit(self.path).path.split("/")  # ["", "api", "users", id, verb]
        user = self._user(parts[3]) if len(parts) == 5 else None
        if user is None or parts[4] not in ("suspend", "unsuspend"):
            self._send(404, {"error": "not_found"})
            return
        user["active"] = parts[4] == "unsuspend"
        self._send(200, user)


@pytest.fixture
def acme() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    users = [
        # Ada signs in as her corporate address, another email than her profile's: a declared identity key.
        {
            "id": "u1",
            "userName": "ada@corp.example",
            "email": "Ada@Acme.example",
            "name": "Ada L",
            "active": True,
            "admin": True,
        },
        {"id": "u2", "userName": "bob", "email": "bob@acme.example", "name": "Bob M", "active": True, "admin": False},
        {"id": "u3", "userName": "cy", "email": "cy@acme.example", "name": "Cy N", "active": False, "admin": False},
        {"id": "u4", "userName": "dee", "email": "dee@acme.example", "name": "Dee O", "active": True, "admin": False},
        {"id": "u5", "userName": "eve", "email": "eve@acme.example", "name": "Eve P", "active": True, "admin": False},
    ]
    handler = type("Handler", (AcmeApi,), {"users": users})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", users
    finally:
        server.shutdown()
        server.server_close()


def environment(tmp_path: Path, site: Path, base_url: str, instances: list[dict[str, Any]]) -> dict[str, str]:
    config = tmp_path / "connected_apps.yaml"
    config.write_text(yaml.safe_dump({"instances": instances}))
    connection = {"conn_type": "http", "host": base_url, "password": TOKEN}
    return {
        "PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")])),
        "SAASLENS_CONFIG": str(config),
        "SAASLENS_LAKE": str(tmp_path / "lake"),
        "AIRFLOW_CONN_ACME_CORP": json.dumps(connection),
    }


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=300, env={**os.environ, **env}, check=False
    )


def saaslens(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run(["-m", "saaslens.cli", *args], env)


CORP = {"app": "acme_directory", "name": "corp", "conn_id": "acme_corp"}


def test_an_installed_connector_syncs_into_the_catalog(installed, acme, tmp_path):
    base_url, users = acme
    env = environment(tmp_path, installed["good"], base_url, [CORP])

    validated = saaslens("validate", env=env)
    assert validated.returncode == 0, validated.stderr
    assert "acme_directory/corp" in validated.stdout and "saaslens_acme_directory_corp" in validated.stdout

    synced = saaslens("sync", "acme_directory/corp", env=env)
    assert synced.returncode == 0, synced.stdout + synced.stderr
    assert TOKEN not in synced.stdout + synced.stderr

    built = saaslens("catalog", env=env)
    assert built.returncode == 0, built.stderr
    with duckdb.connect(built.stdout.strip(), read_only=True) as con:
        accounts = con.execute(
            "select account_id, login, email, status, is_admin from accounts where app = 'acme_directory'"
        ).fetchall()
        runs = dict(con.execute("select stage, status from scan_runs where app = 'acme_directory'").fetchall())
    served = {
        (u["id"], u["userName"], u["email"].lower(), "active" if u["active"] else "suspended", u["admin"])
        for u in users
    }
    assert set(accounts) == served and len(accounts) == len(users)  # all pages (PAGE=2: three requests)
    assert runs == {"authenticate": "success", "users": "success"}


def test_its_declarations_reach_the_catalog_and_the_findings(installed, acme, tmp_path):
    """Its OCSF map, identity key, identity-provider title and broad scopes, declared in its own
    package only, are rows of the catalog's reference tables and views, and the findings read them."""
    base_url, _users = acme
    env = environment(tmp_path, installed["good"], base_url, [CORP])
    assert saaslens("sync", "acme_directory/corp", env=env).returncode == 0
    built = saaslens("catalog", env=env)
    assert built.returncode == 0, built.stderr
    with duckdb.connect(built.stdout.strip(), read_only=True) as con:
        keys = con.execute("select key, source from identity_keys where app = 'acme_directory' and account_id = 'u1'")
        assert set(keys.fetchall()) == {("ada@acme.example", "email"), ("ada@corp.example", "login")}
        assert con.execute("select source from identity_key_sources where app = 'acme_directory'").fetchall() == [
            ("login",)
        ]
        assert ("acme_directory", "Acme SSO") in con.execute("select * from identity_provider_apps").fetchall()
        ada = con.execute("select is_identity_provider, idp_active from identities where account_id = 'u1'")
        assert ada.fetchall() == [(True, True)]
        mapped = con.execute(
            "select action, class_name, activity_name from ocsf_activity_map where app = 'acme_directory'"
        ).fetchall()
        assert set(mapped) == {
            ("user.suspend", "Account Change", "Disable"),
            ("user.signin", "Authentication", "Logon"),
        }
        scopes = con.execute("select scope from broad_scopes where app = 'acme_directory'").fetchall()
        assert scopes == [("users:write",)]
    script = (
        "from saaslens.findings import broad_scopes, is_broad_scope\n"
        "print(('acme_directory', 'users:write') in {(a, s) for a, s, _ in broad_scopes()},"
        " is_broad_scope('acme_directory', 'users:write'), is_broad_scope('acme_directory', 'users:read'))"
    )
    done = run(["-c", script], env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True", "False"]


def test_its_declared_action_plans_applies_and_verifies(installed, acme, tmp_path):
    base_url, users = acme
    env = environment(tmp_path, installed["good"], base_url, [CORP])
    script = textwrap.dedent(f"""
        import json
        from saaslens.connections import ConnectionInfo
        from saaslens.connectors import registry
        from saaslens.connectors.kit import Target
        from saaslens.vocabulary import TargetKind

        spec = registry.app_spec("acme_directory")
        (action,) = spec.actions
        connector = spec.connector({{}}, ConnectionInfo("acme_corp", host={base_url!r}, password={TOKEN!r}))
        plan = action.plan(connector, Target(TargetKind.ACCOUNT, {{"account_id": "u2"}}))
        outcome = action.apply(connector, plan)
        verified = action.verify(connector, outcome)
        again = action.plan(connector, plan.target)
        print(json.dumps({{
            "requests": [[r.method, r.path] for r in plan.requests], "before": dict(plan.before),
            "undo": [[r.method, r.path] for r in plan.undo.requests], "applied": outcome.applied,
            "holds": verified.holds, "after": dict(verified.after), "noop_after": again.noop,
            "capability": str(action.capability), "implemented": action.implemented,
        }}))
    """)
    done = run(["-c", script], env)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result == {
        "requests": [["POST", "/api/users/u2/suspend"]],
        "before": {"active": True},
        "undo": [["POST", "/api/users/u2/unsuspend"]],
        "applied": True,
        "holds": True,
        "after": {"active": False},
        "noop_after": True,
        "capability": "user governance",
        "implemented": True,
    }
    assert next(u for u in users if u["id"] == "u2")["active"] is False  # the server saw it


def test_the_matrix_shows_the_plugin_from_its_declaration(installed, tmp_path):
    env = environment(tmp_path, installed["good"], "http://127.0.0.1:9", [CORP])
    shown = saaslens("capabilities", "--format", "json", env=env)
    assert shown.returncode == 0, shown.stderr
    apps = json.loads(shown.stdout)["apps"]
    acme = apps["acme_directory"]
    assert acme["title"] == "Acme Directory" and acme["stages"] == ["authenticate", "users"]
    assert acme["collected"]["list accounts"] and acme["collected"]["user governance"]  # an implemented action
    assert not acme["capabilities"]["list groups"]
    rows = {line.split(" | ")[0]: line for line in saaslens("capabilities", env=env).stdout.splitlines()}
    # Apps in name order, so acme_directory comes first; its governance cell is built, the others' not.
    built_in = " | ".join(apps[name]["title"] for name in sorted(apps) if name != "acme_directory")
    assert rows["| capability"] == f"| capability | Acme Directory | {built_in} |"
    assert {"GitHub", "Google Workspace", "Microsoft 365", "Okta", "Slack"} <= set(built_in.split(" | "))
    assert rows["| user governance"].startswith("| user governance | yes | ")


def test_a_plugin_cannot_take_a_built_in_app_name(installed, tmp_path):
    env = environment(tmp_path, installed["good"], "http://127.0.0.1:9", [CORP])
    script = (
        "from saaslens.connectors import registry; "
        "print(registry.app_spec('okta').connector.__module__, 'acme_directory' in registry.known_apps())"
    )
    done = run(["-c", script], env)
    assert done.returncode == 0, done.stderr
    module, found = done.stdout.split()
    assert module.startswith("saaslens.connectors.okta") and found == "True"


def test_a_broken_entry_point_fails_with_a_message_naming_it(installed, tmp_path):
    broken = {"app": "acme_broken", "name": "corp", "conn_id": "acme_corp"}
    okta = {"app": "okta", "name": "fine", "conn_id": "okta_fine"}
    env = environment(tmp_path, installed["broken"], "http://127.0.0.1:9", [broken, okta])

    script = (
        "from saaslens.connectors import registry\n"
        "try:\n    registry.app_spec('acme_broken')\n"
        "except registry.ConnectorLoadError as exc:\n    print(exc)\n"
    )
    done = run(["-c", script], env)
    assert done.returncode == 0, done.stderr
    assert "'acme_broken'" in done.stdout and "saaslens_acme_broken.missing:APP" in done.stdout

    # The matrix cannot be drawn without it: the command says which connector, without a traceback.
    shown = saaslens("capabilities", env=env)
    assert shown.returncode == 2 and "Traceback" not in shown.stderr
    assert "'acme_broken'" in shown.stderr and "saaslens_acme_broken.missing:APP" in shown.stderr

    # Its instances are refused, naming it; the other instances stay valid.
    validated = saaslens("validate", env=env)
    assert validated.returncode == 1
    assert "ok     okta/fine" in validated.stdout
    assert "'corp'" in validated.stderr and "saaslens_acme_broken.missing:APP" in validated.stderr
