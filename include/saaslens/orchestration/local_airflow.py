"""A real, local Airflow: metadata DB on SQLite, LocalExecutor, and the three Airflow 3 services
(api-server, scheduler, dag-processor) as child processes. Used by `make demo` and by the test
that proves pools bound concurrency under the real scheduler.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from saaslens import settings

TERMINAL_RUN_STATES = {"success", "failed"}


class AirflowStackError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]  # (host, port) for an AF_INET socket
        return port


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@dataclass
class AirflowStack:
    home: Path
    dags_folder: Path = field(default_factory=lambda: settings.PROJECT_ROOT / "dags")
    extra_env: dict[str, str] = field(default_factory=dict)
    api_port: int = field(default_factory=free_port)
    parallelism: int = 8
    # Airflow users (name -> password) for a stack that needs real identities (who triggered, who
    # approved). None: the demo's single anonymous admin, with no login.
    users: dict[str, str] | None = None
    _processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    _tokens: dict[str, str] = field(default_factory=dict)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def log_dir(self) -> Path:
        return self.home / "service-logs"

    def env(self) -> dict[str, str]:
        self.home.mkdir(parents=True, exist_ok=True)
        secret_file = self.home / ".jwt_secret"
        if not secret_file.exists():
            secret_file.write_text(secrets.token_urlsafe(32))
            secret_file.chmod(0o600)
        bin_dir = str(Path(sys.executable).parent)
        return {
            **os.environ,
            "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": str(self.parallelism),
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.home / 'airflow.db'}",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.api_url}/execution/",
            "AIRFLOW__API__PORT": str(self.api_port),
            "AIRFLOW__API__BASE_URL": self.api_url,
            **self._auth_env(),
            "AIRFLOW__API_AUTH__JWT_SECRET": secret_file.read_text().strip(),
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
            "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "300",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "5",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(self.home / "logs"),
            # A task's calls to the execution API time out after 5 s by default. With one api-server
            # worker on SQLite and eight tasks starting at once on two CPUs, answers took longer:
            # tasks failed with "API_SERVER_ERROR ... ReadTimeout" before or after their stage
            # succeeded (the benchmark's "mass failure"). Airflow's own advice for that error is
            # to raise this timeout ([workers] execution_api_timeout, added in 3.1.1).
            "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "60",
            **self.extra_env,
        }

    def _auth_env(self) -> dict[str, str]:
        if self.users is None:
            # A local demo: the UI and REST API without a login. Never use this in a deployment.
            return {"AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True"}
        passwords = self.home / "simple_auth_manager_passwords.json"
        passwords.write_text(json.dumps(self.users))
        passwords.chmod(0o600)
        return {
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(f"{name}:admin" for name in self.users),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        }

    def _headers(self, as_user: str | None) -> dict[str, str]:
        """A bearer token for `as_user` (default: the first user) from the auth manager's login
        endpoint; none in the demo's all-admins mode."""
        if self.users is None:
            return {}
        user = as_user or next(iter(self.users))
        if user not in self._tokens:
            response = httpx.post(
                f"{self.api_url}/auth/token",
                json={"username": user, "password": self.users[user]},
                timeout=30,
            )
            if response.status_code != 201:
                raise AirflowStackError(f"logging in as {user}: HTTP {response.status_code}")
            self._tokens[user] = str(response.json()["access_token"])
        return {"Authorization": f"Bearer {self._tokens[user]}"}

    def airflow(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            ["airflow", *args], env=self.env(), capture_output=True, text=True, timeout=timeout, check=False
        )
        if result.returncode != 0:
            raise AirflowStackError(f"airflow {' '.join(args)} failed: {result.stderr[-2000:]}")
        return result

    def migrate(self) -> None:
        self.airflow("db", "migrate")

    def bootstrap(self, *, settings_file: Path | None = None, config: Path | None = None) -> str:
        args = [sys.executable, "-m", "saaslens.cli", "airflow-bootstrap"]
        if settings_file:
            args += ["--settings", str(settings_file)]
        if config:
            args += ["--config", str(config)]
        result = subprocess.run(args, env=self.env(), capture_output=True, text=True, timeout=300, check=False)
        if result.returncode != 0:
            raise AirflowStackError(f"saaslens airflow-bootstrap failed: {result.stderr[-2000:]}")
        return result.stdout

    def start(self) -> None:
        if not port_is_free(self.api_port):
            raise AirflowStackError(f"port {self.api_port} is in use; cannot start the Airflow API server")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        commands = {
            "api-server": ["airflow", "api-server", "--port", str(self.api_port), "--host", "127.0.0.1"],
            "scheduler": ["airflow", "scheduler"],
            "dag-processor": ["airflow", "dag-processor"],
        }
        for name, command in commands.items():
            log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - lives as long as the process
            self._processes[name] = subprocess.Popen(
                command, env=self.env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.wait_until(self._api_ready, timeout=180, what="the Airflow API server to answer")

    def stop(self) -> None:
        for process in self._processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for process in self._processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        self._processes.clear()

    def __enter__(self) -> AirflowStack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- REST API (v2) ------------------------------------------------------------------------

    def _check_alive(self) -> None:
        for name, process in self._processes.items():
            if process.poll() is not None:
                tail = (self.log_dir / f"{name}.log").read_text(errors="replace")[-2000:]
                raise AirflowStackError(f"airflow {name} exited with {process.returncode}:\n{tail}")

    def _api_ready(self) -> bool:
        self._check_alive()
        try:
            return httpx.get(f"{self.api_url}/api/v2/monitor/health", timeout=5).status_code == 200
        except httpx.TransportError:
            return False

    def api(self, method: str, path: str, *, as_user: str | None = None, **kwargs: Any) -> Any:
        headers = self._headers(as_user)
        response = httpx.request(method, f"{self.api_url}/api/v2{path}", timeout=30, headers=headers, **kwargs)
        if response.status_code >= 400:
            raise AirflowStackError(f"{method} {path}: HTTP {response.status_code}: {response.text[:500]}")
        return response.json() if response.content else None

    def wait_until(self, predicate: Callable[[], Any], *, timeout: float, what: str, interval: float = 1.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(interval)
        raise AirflowStackError(f"timed out after {timeout:.0f}s waiting for {what}")

    def wait_for_dags(self, dag_ids: list[str], timeout: float = 300) -> None:
        def parsed() -> bool:
            self._check_alive()
            known = {d["dag_id"] for d in self.api("GET", "/dags", params={"limit": 1000})["dags"]}
            return set(dag_ids) <= known

        self.wait_until(parsed, timeout=timeout, what=f"the DAG processor to parse {', '.join(dag_ids)}", interval=2)

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None, *, as_user: str | None = None) -> str:
        self.api("PATCH", f"/dags/{dag_id}", json={"is_paused": False}, as_user=as_user)
        body: dict[str, Any] = {"logical_date": None}
        if conf is not None:
            body["conf"] = conf
        run = self.api("POST", f"/dags/{dag_id}/dagRuns", json=body, as_user=as_user)
        return str(run["dag_run_id"])

    def answer(
        self, dag_id: str, run_id: str, task_id: str, option: str, *, as_user: str | None = None
    ) -> dict[str, Any]:
        """Answer a human-in-the-loop task (an approval) through the REST API, as the UI does."""
        path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/-1/hitlDetails"
        body = {"chosen_options": [option], "params_input": {}}
        answered: dict[str, Any] = self.api("PATCH", path, json=body, as_user=as_user)
        return answered

    def task_state(self, dag_id: str, run_id: str, task_id: str) -> str | None:
        found = [t for t in self.task_instances(dag_id, run_id) if t["task_id"] == task_id]
        return str(found[0]["state"]) if found and found[0]["state"] else None

    def run_once(self, dag_id: str, *, wait_for_scheduler: float = 12) -> str:
        """Unpause and return the run that does the work. Unpausing a scheduled DAG makes the
        scheduler create the run for the latest interval; triggering as well would scan twice,
        so trigger only when the scheduler created none (no schedule, or that interval ran)."""
        before = {r["dag_run_id"] for r in self.api("GET", f"/dags/{dag_id}/dagRuns")["dag_runs"]}
        self.api("PATCH", f"/dags/{dag_id}", json={"is_paused": False})
        deadline = time.monotonic() + wait_for_scheduler
        while time.monotonic() < deadline:
            new = [
                r["dag_run_id"]
                for r in self.api("GET", f"/dags/{dag_id}/dagRuns")["dag_runs"]
                if r["dag_run_id"] not in before
            ]
            if new:
                return str(new[0])
            time.sleep(1)
        return str(self.api("POST", f"/dags/{dag_id}/dagRuns", json={"logical_date": None})["dag_run_id"])

    def pause(self, dag_id: str) -> None:
        self.api("PATCH", f"/dags/{dag_id}", json={"is_paused": True})

    def run_state(self, dag_id: str, run_id: str) -> str:
        return str(self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}")["state"])

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        instances: list[dict[str, Any]] = self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances")[
            "task_instances"
        ]
        return instances

    def wait_for_runs(
        self,
        runs: dict[str, str],
        *,
        timeout: float = 1800,
        on_poll: Callable[[dict[str, list[dict[str, Any]]]], None] | None = None,
    ) -> dict[str, str]:
        states: dict[str, str] = {}

        def done() -> bool:
            self._check_alive()
            if on_poll:
                on_poll({dag_id: self.task_instances(dag_id, run_id) for dag_id, run_id in runs.items()})
            for dag_id, run_id in runs.items():
                states[dag_id] = self.run_state(dag_id, run_id)
            return all(state in TERMINAL_RUN_STATES for state in states.values())

        self.wait_until(done, timeout=timeout, what="the DAG runs to finish", interval=2)
        return states
