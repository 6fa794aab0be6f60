"""The saaslens page in the Airflow UI is behind Airflow's own login, like the REST API.

Airflow mounts a plugin's FastAPI app as it is (airflow/api_fastapi/app.py `init_plugins`): no auth
is added for it, so the plugin must ask Airflow's auth manager itself. Here Airflow's real API app
(`create_app`, what `airflow api-server` serves) is built with the plugin loaded and the
SimpleAuthManager (Airflow 3's default) configured with users of different roles, in a fresh
interpreter with its own AIRFLOW_HOME and metadata DB; every request is made to /saaslens/ and to
Airflow's /api/v2/dags, which must answer alike.
"""

from __future__ import annotations

import json
import textwrap
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from saaslens.connectors import registry
from saaslens.matrix import BUILT, matrix_markdown
from saaslens.orchestration.local_airflow import AirflowStack
from saaslens.vocabulary import Capability, Stage
from tests.airflow.clean_interpreter import run_python_json

ROOT = Path(__file__).resolve().parents[2]
# SimpleAuthManager roles (airflow/api_fastapi/auth/managers/simple/simple_auth_manager.py): VIEWER
# may read DAGs; a user with an empty role may read nothing (`_is_authorized` returns False).
USERS = {"admin": "ADMIN", "viewer": "VIEWER", "norole": ""}
PASSWORDS = {"admin": "admin-pw-1", "viewer": "viewer-pw-2", "norole": "norole-pw-3"}

REQUESTS = textwrap.dedent("""
    import json, os
    os.environ["_AIRFLOW_PROCESS_CONTEXT"] = "server"  # as airflow/api_fastapi/main.py sets it
    from fastapi.testclient import TestClient
    from airflow.api_fastapi.app import create_app

    passwords = {passwords!r}
    with TestClient(create_app()) as client:
        tokens = {{}}
        for user, password in passwords.items():
            answer = client.post("/auth/token", json={{"username": user, "password": password}})
            assert answer.status_code == 201, (user, answer.status_code, answer.text)
            tokens[user] = answer.json()["access_token"]
        client.cookies.clear()  # a login may set the UI's cookie; every case below says its own
        cases = {{
            "anonymous": {{}},
            "forged": {{"Authorization": "Bearer not-a-jwt"}},
            "norole": {{"Authorization": "Bearer " + tokens["norole"]}},
            "viewer": {{"Authorization": "Bearer " + tokens["viewer"]}},
            "admin": {{"Authorization": "Bearer " + tokens["admin"]}},
            # What the browser sends to a same-origin page after logging in to the UI.
            "viewer_cookie": {{"Cookie": "_token=" + tokens["viewer"]}},
        }}
        results = {{}}
        for case, headers in cases.items():
            for path in ("/saaslens/", "/api/v2/dags"):
                answer = client.get(path, headers=headers)
                results[case + " " + path] = {{"status": answer.status_code, "body": answer.text}}
        # FastAPI serves its docs routes outside the app's dependencies.
        for path in ("/saaslens/openapi.json", "/saaslens/docs", "/saaslens/redoc"):
            answer = client.get(path)
            results["anonymous " + path] = {{"status": answer.status_code, "body": answer.text}}
    print(json.dumps(results))
""")


@pytest.fixture(scope="module")
def answers(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("plugin-auth")
    config = tmp / "connected_apps.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "instances": [
                    {"app": "okta", "name": "plugauth", "conn_id": "okta_plugauth", "schedule": None},
                    {"app": "okta", "name": "broken entry!", "conn_id": "okta_broken"},
                ]
            }
        )
    )
    passwords_file = tmp / "passwords.json"
    passwords_file.write_text(json.dumps(PASSWORDS))
    stack = AirflowStack(
        home=tmp / "airflow",
        extra_env={
            "SAASLENS_CONFIG": str(config),
            "SAASLENS_LAKE": str(tmp / "lake"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
            # A deployment's settings, not the demo's open "everyone is admin" mode.
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(f"{u}:{r}" for u, r in USERS.items()),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords_file),
        },
    )
    stack.migrate()
    answers = run_python_json(REQUESTS.format(passwords=PASSWORDS), env=stack.env())
    return {"answers": answers, "config": config}


def _status(answers, case: str, path: str) -> int:
    return answers["answers"][f"{case} {path}"]["status"]


@pytest.mark.integration
@pytest.mark.parametrize(
    ("case", "expected"),
    [("anonymous", 401), ("forged", 403), ("norole", 403), ("viewer", 200), ("admin", 200), ("viewer_cookie", 200)],
)
def test_plugin_page_answers_like_airflows_own_api(answers, case, expected):
    assert _status(answers, case, "/api/v2/dags") == expected, "Airflow's own API: the test's premise"
    assert _status(answers, case, "/saaslens/") == expected


@pytest.mark.integration
def test_refused_requests_see_nothing_of_the_inventory(answers):
    for path in ("/saaslens/openapi.json", "/saaslens/docs", "/saaslens/redoc"):
        assert _status(answers, "anonymous", path) != 200, path
    for case in ("anonymous", "forged", "norole"):
        body = answers["answers"][f"{case} /saaslens/"]["body"]
        assert "saaslens_okta_plugauth" not in body and "okta_plugauth" not in body


@pytest.mark.integration
def test_page_for_a_dag_reader_shows_instances_but_not_the_config_path(answers):
    page = answers["answers"]["viewer_cookie /saaslens/"]["body"]
    assert "saaslens_okta_plugauth" in page
    assert "broken entry!" in page  # an invalid entry is listed, with its reason
    config = answers["config"]
    assert str(config) not in page and config.name not in page and str(config.parent) not in page


class _Tables(HTMLParser):
    """Every table of a page as rows of cell texts (headers included)."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def page_matrix(page: str) -> list[list[str]]:
    return next(t for t in _Tables(page).tables if t and t[0] and t[0][0] == "capability")


def markdown_matrix() -> list[list[str]]:
    rows = [line for line in matrix_markdown().splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in row.strip().strip("|").split("|")] for row in rows]


@pytest.mark.integration
def test_page_matrix_is_the_docs_matrix_and_shows_nothing_unbuilt_as_built(answers):
    matrix = page_matrix(answers["answers"]["viewer /saaslens/"]["body"])
    assert matrix == markdown_matrix()
    rows = {row[0]: row[1:] for row in matrix[1:]}
    for column, spec in enumerate(registry.app_specs()):
        for capability in Capability:
            if capability not in spec.collected:
                assert rows[capability.value][column] != BUILT, f"{spec.title}: {capability.value} shown as built"
    # Posture is built where an app declares a settings stage; governance where it implements an action.
    for column, spec in enumerate(registry.app_specs()):
        assessed = Stage.SETTINGS in spec.stage_names
        assert (rows[Capability.SECURITY_POSTURE.value][column] == BUILT) is assessed, spec.title
    for column, spec in enumerate(registry.app_specs()):
        governs = any(a.implemented and a.capability is Capability.USER_GOVERNANCE for a in spec.actions)
        assert (rows[Capability.USER_GOVERNANCE.value][column] == BUILT) is governs, spec.title
