"""A sandbox in its own process, for benchmarks: the server must not share the measured
interpreter's GIL or memory.

`SandboxProcess` starts `saaslens_sandbox.core.SandboxServer` in a spawned child and hands back
each tenant's URL and credentials. The child wraps the app with a recorder: every request to a
tenant is noted as (epoch seconds, rate-limit bucket, status) and `timeline()` fetches them, so a
benchmark can count requests per rate-limit window exactly as the sandbox counted them.
"""

from __future__ import annotations

import multiprocessing as mp
import threading
import time
from typing import Any

import httpx
import orjson

TIMELINE_PATH = "/_bench/timeline"


class _Recorder:
    """ASGI wrapper: note each tenant request's time, bucket and final status."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.state = app.state  # SandboxServer reads state.personalities after start
        self.events: list[tuple[float, str, str, int]] = []
        self._lock = threading.Lock()
        self._prefixes = {f"/{a}/{t}": p for (a, t), p in app.state.personalities.items()}

    def _personality(self, path: str) -> tuple[str, Any, str] | None:
        parts = path.split("/", 3)
        if len(parts) < 3:
            return None
        prefix = f"/{parts[1]}/{parts[2]}"
        p = self._prefixes.get(prefix)
        if p is None:
            return None
        return prefix, p, "/" + (parts[3] if len(parts) > 3 else "")

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == TIMELINE_PATH:
            await self._answer_timeline(scope, send)
            return
        found = self._personality(scope["path"])
        if found is None:
            await self.app(scope, receive, send)
            return
        prefix, personality, relative = found
        bucket = personality.rate_limit_bucket(scope["method"], relative) or "(none)"
        status = {"code": 0}

        async def noting(message: Any) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, noting)
        finally:
            with self._lock:
                self.events.append((time.time(), prefix, bucket, status["code"]))

    async def _answer_timeline(self, scope: Any, send: Any) -> None:
        with self._lock:
            body = orjson.dumps(self.events)
            if scope["method"] == "DELETE":
                self.events = []
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _serve(specs_json: list[str], queue: Any, stop: Any) -> None:
    from saaslens_sandbox.core import SandboxServer, TenantSpec

    specs = [TenantSpec.model_validate_json(s) for s in specs_json]
    server = SandboxServer(specs)
    server.app = _Recorder(server.app)
    with server:
        tenants = {}
        for spec in specs:
            truth = server.personality(spec.app, spec.name).ground_truth()
            tenants[f"{spec.app}/{spec.name}"] = {
                "url": server.tenant_url(spec.app, spec.name),
                "credentials": truth.get("credentials"),
                "org": (truth.get("org") or {}).get("login"),
            }
        queue.put({"url": server.url, "tenants": tenants})
        stop.wait()


class SandboxProcess:
    """`with SandboxProcess([spec, ...]) as sandbox:` then `sandbox.tenant("okta/acme")["url"]`."""

    def __init__(self, specs: list[Any], *, start_timeout: float = 900) -> None:
        self.specs = specs
        self.start_timeout = start_timeout
        context = mp.get_context("spawn")
        self._queue = context.Queue()
        self._stop = context.Event()
        self._process = context.Process(
            target=_serve, args=([s.model_dump_json() for s in specs], self._queue, self._stop), daemon=True
        )
        self.url = ""
        self.tenants: dict[str, dict[str, Any]] = {}
        self.build_seconds = 0.0

    def __enter__(self) -> SandboxProcess:
        started = time.monotonic()
        self._process.start()
        try:
            info = self._queue.get(timeout=self.start_timeout)
        except Exception:
            self.__exit__()
            raise RuntimeError(
                f"the sandbox process did not start within {self.start_timeout:.0f}s "
                f"(exit code {self._process.exitcode})"
            ) from None
        self.build_seconds = time.monotonic() - started
        self.url, self.tenants = info["url"], info["tenants"]
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._process.join(timeout=30)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(timeout=10)

    def tenant(self, key: str) -> dict[str, Any]:
        try:
            return self.tenants[key]
        except KeyError:
            raise KeyError(f"no sandbox tenant {key!r} (tenants: {', '.join(self.tenants)})") from None

    def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        response = httpx.request(method, f"{self.url}/_sandbox{path}", timeout=60, **kwargs)
        response.raise_for_status()
        return response.json()

    def stats(self, app: str, name: str) -> dict[str, Any]:
        return self.admin("GET", f"/{app}/{name}/stats")

    def reset_stats(self, app: str, name: str) -> None:
        self.admin("POST", f"/{app}/{name}/stats/reset")

    def timeline(self, *, clear: bool = False) -> list[tuple[float, str, str, int]]:
        """Every tenant request so far: (epoch seconds, "/app/tenant", bucket, status)."""
        response = httpx.request("DELETE" if clear else "GET", f"{self.url}{TIMELINE_PATH}", timeout=60)
        response.raise_for_status()
        return [tuple(event) for event in response.json()]
