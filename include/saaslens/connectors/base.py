"""What every connector class is: the client half of an app (the declaration is its `AppSpec`).

A connector says how to authenticate, which error conventions its API follows, how it paces and
what its credentials may do (`authenticate`). The stages it serves, their scan functions and its
actions are declared in its app's `AppSpec` (connectors/kit.py). Fetching, retrying, pacing,
redaction, storage and cursors are not its business: the HTTP layer and the runner own them.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, Field

from saaslens.connections import ConnectionInfo
from saaslens.connectors.batch import Batch
from saaslens.http import (
    ApiClient,
    ApiError,
    AuthenticationError,
    ErrorPolicy,
    FeatureUnavailableError,
    PermissionDeniedError,
    RetryPolicy,
    RunMetrics,
)
from saaslens.http.transport import RequestLimits

T = TypeVar("T")
R = TypeVar("R")


class ConnectorOptions(BaseModel):
    """Options every connector understands; apps extend this with their own."""

    model_config = ConfigDict(extra="forbid")

    page_size: int | None = Field(default=None, ge=1, description="Override the provider's page size")
    max_workers: int = Field(default=4, ge=1, le=32, description="Concurrent requests for per-item fan-out")
    retry_max_attempts: int = Field(default=8, ge=1, le=20, description="Tries per request before the stage fails")
    retry_initial_backoff_seconds: float = Field(default=0.5, gt=0, le=60, description="First backoff on 5xx")
    read_timeout_seconds: float = Field(
        default=60.0, gt=0, le=600, description="Give up on a response whose next byte takes longer, and retry"
    )
    # Bounds on what one provider answer may cost (saaslens.http.transport, docs/architecture.md).
    request_deadline_seconds: float = Field(
        default=300.0,
        gt=0,
        le=3600,
        description="Give up on a request not finished this long after it was sent (a body dripping byte by byte "
        "within the read timeout), and retry",
    )
    max_response_megabytes: float = Field(
        default=32.0,
        gt=0,
        le=1024,
        description="Refuse a response larger than this, counted on the wire and decompressed, as it streams in",
    )
    max_throttle_wait_seconds: float = Field(
        default=300.0,
        ge=0,
        le=86_400,
        description="Longest wait a provider's Retry-After or rate-limit reset may impose; a longer one fails the "
        "request at once",
    )
    activities_initial_days: int = Field(
        default=30, ge=1, le=3650, description="How far back the first activities scan reaches"
    )
    activities_lookback_seconds: int | None = Field(
        default=None, ge=0, description="Re-read this much before the cursor (late events); provider default"
    )
    activities_lag_seconds: int | None = Field(
        default=None, ge=0, description="Stop this far before now (events still arriving); provider default"
    )
    checkpoint_rows: int = Field(
        default=20_000,
        ge=1,
        le=1_000_000,
        description="Rows per committed chunk: events are audited and stored, and snapshot parts staged, this many "
        "at a time, and a killed scan resumes after the last chunk",
    )
    snapshot_reconcile_hours: float = Field(
        default=24,
        ge=0,
        le=24 * 90,
        description="Where the provider has a change filter (Okta lastUpdated, Graph delta), snapshots between "
        "full listings are incremental; a full listing reconciles (and detects deletions) this often. 0: always full",
    )
    # The quality gate's mass-deletion guard (saaslens.lake.quality.mass_deletion, docs/quality.md).
    max_snapshot_shrink: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="Largest fraction of a snapshot table's rows (previous snapshot of 10 rows or more) that may "
        "vanish in one scan; a listing that loses more is refused by the quality gate as a mass deletion",
    )
    allow_empty_snapshots: bool = Field(
        default=False,
        description="Publish a snapshot table that comes back empty where the previous snapshot had 10 rows or "
        "more (otherwise refused as an empty answer, not taken for every row deleted)",
    )


@dataclass(frozen=True)
class StageAccess:
    allowed: bool
    reason: str | None = None


@dataclass
class AuthReport:
    """What authenticate found: who we are, which permissions we hold, which stages may run."""

    identity: str
    permissions: dict[str, str] = field(default_factory=dict)  # name -> how it was learned
    stages: dict[str, StageAccess] = field(default_factory=dict)
    # True when `permissions` is everything the credentials hold, as the provider lists it (an OAuth
    # scopes header, a token's roles claim): a permission absent from it is then known to be missing.
    # False when some were inferred or cannot be listed without trying a change.
    permissions_complete: bool = False

    def rows(self) -> list[dict[str, Any]]:
        rows = [
            {"kind": "permission", "name": name, "granted": True, "detail": detail}
            for name, detail in sorted(self.permissions.items())
        ]
        rows += [
            {"kind": "stage", "name": stage, "granted": access.allowed, "detail": access.reason}
            for stage, access in self.stages.items()
        ]
        return rows


@dataclass
class HttpContext:
    """What the runner lends a connector for its HTTP clients: the run's request counters and, in
    tests, a transport in place of the network."""

    metrics: RunMetrics = field(default_factory=RunMetrics)
    transport: httpx.BaseTransport | None = None


@dataclass(frozen=True)
class ActingAccount:
    """The account in the tenant a set of credentials acts as (Okta's /users/me, GitHub's /user,
    Slack's auth.test, Google's delegated admin). The governance engine refuses to act on it: a run
    must not suspend or demote the account it depends on."""

    account_id: str
    login: str = ""


class Connector(abc.ABC):
    app: ClassVar[str]
    title: ClassVar[str]
    Options: ClassVar[type[ConnectorOptions]] = ConnectorOptions
    default_lookback_seconds: ClassVar[int] = 300
    default_lag_seconds: ClassVar[int] = 60
    # Which provider permission each stage needs, named when a probe is denied. An app declared with
    # an AppSpec gives it once, on its stages; the registry hands it to the class when it loads the
    # app (registry.app_spec), so this module needs neither the registry nor the kit.
    stage_permissions: ClassVar[Mapping[str, str]] = {}

    def __init__(
        self,
        options: ConnectorOptions | Mapping[str, Any],
        connection: ConnectionInfo,
        http: HttpContext | None = None,
    ) -> None:
        self.connection = connection
        self.options = (
            options if isinstance(options, self.Options) else self.Options.model_validate(dict(options or {}))
        )
        http = http or HttpContext()
        self.metrics = http.metrics
        self._transport = http.transport
        self._client: ApiClient | None = None
        self._auth: httpx.Auth | None = None

    # -- what a connector declares -------------------------------------------------------------

    @abc.abstractmethod
    def build_auth(self) -> httpx.Auth: ...

    def error_policy(self) -> ErrorPolicy:
        return ErrorPolicy()

    def rate_limit_bucket(self, relative_path: str) -> str | None:
        """The provider's rate-limit bucket for a path below the base URL; None: the default."""
        return None

    def default_headers(self) -> dict[str, str]:
        return {"Accept": "application/json"}

    @abc.abstractmethod
    def authenticate(self) -> AuthReport: ...

    def acting_account(self) -> ActingAccount | None:
        """The tenant account these credentials act as, read from the provider (no change made),
        None when they act as an app with no account of its own (an
        app-only Microsoft Graph token). The governance engine never acts on this account."""
        return None

    # -- shared behaviour ---------------------------------------------------------------------

    @property
    def auth(self) -> httpx.Auth:
        if self._auth is None:
            self._auth = self.build_auth()
        return self._auth

    @property
    def client(self) -> ApiClient:
        if self._client is None:
            self._client = self.new_client(self.connection.base_url, bucket=self.rate_limit_bucket)
        return self._client

    def new_client(
        self,
        base_url: str,
        *,
        auth: httpx.Auth | None = None,
        bucket: Callable[[str], str | None] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> ApiClient:
        """An ApiClient with this connector's rules (errors, headers, retries, request limits, timeouts,
        the run's counters) for `base_url`: the default client, and any second API host an app has
        (Slack's Audit Logs API, one per Google API and delegated subject). `bucket` names the
        rate-limit bucket for a path below `base_url`; `headers` are sent with every request beside the
        connector's own (Box's As-User, naming the user a request acts as). The caller closes a client
        it made."""

        def bucket_for(url: str) -> str | None:
            return bucket(client.relative_path(url)) if bucket is not None else None

        client = ApiClient(
            base_url,
            auth=auth or self.auth,
            error_policy=self.error_policy(),
            headers={**self.default_headers(), **(headers or {})},
            metrics=self.metrics,
            transport=self._transport,
            timeout=httpx.Timeout(connect=10.0, read=self.options.read_timeout_seconds, write=30.0, pool=30.0),
            retry=self.retry_policy(),
            limits=self.request_limits(),
            bucket_for=bucket_for,
        )
        return client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            max_attempts=self.options.retry_max_attempts,
            initial_backoff=self.options.retry_initial_backoff_seconds,
            max_throttle_wait=self.options.max_throttle_wait_seconds,
        )

    def request_limits(self) -> RequestLimits:
        return RequestLimits(
            deadline_seconds=self.options.request_deadline_seconds,
            max_response_bytes=int(self.options.max_response_megabytes * 2**20),
        )

    def lookback_seconds(self, stream: str) -> int:
        """How far before the cursor a scan re-reads, for events that arrive late. An option
        overrides every stream; connectors override this for per-stream defaults."""
        value = self.options.activities_lookback_seconds
        return self.default_lookback_seconds if value is None else value

    def lag_seconds(self, stream: str) -> int:
        """How far behind now a window ends, so it does not close over events still arriving."""
        value = self.options.activities_lag_seconds
        return self.default_lag_seconds if value is None else value

    def probe(
        self, stage: str, path: str, params: Mapping[str, Any] | None = None, *, client: ApiClient | None = None
    ) -> StageAccess:
        """Try the cheapest request a stage needs (on `client` when the stage uses another API
        host or credential). Denied or unlicensed means the stage is skipped with the provider's
        reason; rejected credentials raise at once."""
        try:
            (client or self.client).get_json(path, params)
        except AuthenticationError:
            raise
        except PermissionDeniedError as exc:
            needed = self.stage_permissions.get(stage)
            hint = f" (needs {needed})" if needed else ""
            return StageAccess(False, f"permission denied{hint}: {exc.provider_code or exc.status} {exc.detail}")
        except FeatureUnavailableError as exc:
            return StageAccess(False, f"not available on this plan or licence: {exc.detail}")
        except ApiError:
            raise
        return StageAccess(True, None)

    def page_size(self, maximum: int, default: int | None = None) -> int:
        """The page size to ask for: the `page_size` option, else the provider's default (its maximum
        when not given), never above the maximum the provider documents."""
        return min(self.options.page_size or default or maximum, maximum)

    def groups_then_members(
        self,
        group_pages: Iterable[list[dict[str, Any]]],
        group_row: Callable[[dict[str, Any]], dict[str, Any]],
        members_of: Callable[[dict[str, Any]], list[dict[str, Any]]],
    ) -> Iterator[Batch]:
        """The groups stage most providers need: every group page as `groups` rows, then each group's
        member rows (`members_of` turns a provider group into its canonical member rows, usually one
        paged request), fetched concurrently with fan_out. Groups come first so members always
        belong to a listed group."""
        groups: list[dict[str, Any]] = []
        for page in group_pages:
            groups += page
            yield Batch("groups", [group_row(group) for group in page])
        for rows in self.fan_out(groups, members_of):
            if rows:
                yield Batch("group_members", rows)

    def fan_out(self, items: Iterable[T], fetch: Callable[[T], R]) -> Iterator[R]:
        """Run `fetch` over items with bounded concurrency, yielding results in input order.
        The client's pacer keeps the combined rate under the provider's limit."""
        workers = self.options.max_workers
        if workers <= 1:
            yield from map(fetch, items)
            return
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"{self.app}-fanout") as pool:
            window: list[Any] = []
            for item in items:
                window.append(pool.submit(fetch, item))
                if len(window) >= workers * 4:
                    yield window.pop(0).result()
            for future in window:
                yield future.result()


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
