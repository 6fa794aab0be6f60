"""Pagination strategies. A paginator only decides what the next request is; the client does
the fetching, retrying and pacing. Each request is a plain (url, params) pair, or for an RPC-style
API that takes its arguments as a JSON body (Dropbox's POST endpoints and their `/continue` cursors)
a (url, json) pair, so it can be stored as a checkpoint and resumed after a crash."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from saaslens.http.errors import PageShapeError


@dataclass(frozen=True)
class PageRequest:
    """One page's request: a GET of `url` with `params`, or, when `json` is given, a POST of that
    JSON body (an RPC API's arguments)."""

    url: str
    params: Mapping[str, Any] = field(default_factory=dict)
    json: Mapping[str, Any] | None = None

    @property
    def method(self) -> str:
        return "GET" if self.json is None else "POST"

    def to_state(self) -> dict[str, Any]:
        state: dict[str, Any] = {"url": self.url, "params": dict(self.params)}
        if self.json is not None:
            state["json"] = dict(self.json)
        return state

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> PageRequest:
        body = state.get("json")
        return cls(
            url=str(state["url"]), params=dict(state.get("params") or {}), json=dict(body) if body is not None else None
        )


def dig(payload: Any, path: str | None) -> Any:
    """Follow a dotted path ("response_metadata.next_cursor"); None when any step is missing."""
    if not path:
        return payload
    for part in path.split("."):
        if not isinstance(payload, Mapping):
            return None
        payload = payload.get(part)
    return payload


class Paginator:
    """Base: `items_path` says where the records are (None: the body is the list).

    Every page is checked for its shape: the items must be a list, and each item an instance of
    `items_are` (a JSON object, unless the listing holds plain ids, as Slack's
    `usergroups.users.list` does). An absent items key is an error, except where the provider
    documents that it omits an empty list (`missing_items_mean_empty`, Google's convention):
    elsewhere a body without its list is not what the API promises, and taking it for "no items"
    would publish an empty listing.
    """

    items_are: type | tuple[type, ...] = dict
    missing_items_mean_empty = False

    def __init__(
        self,
        items_path: str | None = None,
        *,
        items_are: type | tuple[type, ...] | None = None,
        missing_items_mean_empty: bool | None = None,
    ) -> None:
        self.items_path = items_path
        if items_are is not None:
            self.items_are = items_are
        if missing_items_mean_empty is not None:
            self.missing_items_mean_empty = missing_items_mean_empty

    def describe(self) -> str:
        return repr(self.items_path) if self.items_path else "a top-level list"

    def items(self, payload: Any) -> list[Any]:
        where = f"at {self.items_path!r}" if self.items_path else "at the top level"
        if self.items_path and not isinstance(payload, Mapping):
            raise PageShapeError(f"expected a JSON object holding a list {where}, got {_json_type(payload)}")
        found = dig(payload, self.items_path)
        if found is None:
            if self.missing_items_mean_empty:
                return []
            raise PageShapeError(f"expected a list {where}, found none")
        if not isinstance(found, list):
            raise PageShapeError(f"expected a list {where}, got {_json_type(found)}")
        kind = self.items_are
        if not all(isinstance(item, kind) for item in found):
            position, item = next((i, item) for i, item in enumerate(found) if not isinstance(item, kind))
            expected = _json_type_name(kind)
            raise PageShapeError(f"item {position} of the list {where} is {_json_type(item)}, expected {expected}")
        return found

    def next_request(
        self, current: PageRequest, response: httpx.Response, payload: Any, items: list[Any]
    ) -> PageRequest | None:
        raise NotImplementedError


_JSON_NAMES = {dict: "an object", list: "a list", str: "a string", int: "a number", float: "a number", bool: "a bool"}


def _json_type_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(_JSON_NAMES.get(k, k.__name__) for k in kinds)


def _json_type(value: Any) -> str:
    return "null" if value is None else _JSON_NAMES.get(type(value), type(value).__name__)


class SinglePage(Paginator):
    def next_request(
        self, current: PageRequest, response: httpx.Response, payload: Any, items: list[Any]
    ) -> PageRequest | None:
        return None


class LinkHeaderPaginator(Paginator):
    """RFC 8288 `Link: <...>; rel="next"` (Okta, GitHub). The next URL is opaque: follow it whole.

    `stop_on_empty_page` is for polling feeds (Okta's System Log without `until`) whose next link
    never disappears: an empty page means we have caught up.
    """

    def __init__(self, items_path: str | None = None, *, stop_on_empty_page: bool = False, **shape: Any) -> None:
        super().__init__(items_path, **shape)
        self.stop_on_empty_page = stop_on_empty_page

    def next_request(
        self, current: PageRequest, response: httpx.Response, payload: Any, items: list[Any]
    ) -> PageRequest | None:
        if self.stop_on_empty_page and not items:
            return None
        link = response.links.get("next")
        if not link or not link.get("url"):
            return None
        return PageRequest(url=link["url"])


class BodyCursorPaginator(Paginator):
    """An opaque cursor in the body, sent back as a parameter (Slack `next_cursor`)."""

    def __init__(
        self,
        items_path: str | None = None,
        *,
        cursor_path: str = "response_metadata.next_cursor",
        cursor_param: str = "cursor",
        **shape: Any,
    ) -> None:
        super().__init__(items_path, **shape)
        self.cursor_path = cursor_path
        self.cursor_param = cursor_param

    def next_request(
        self, current: PageRequest, response: httpx.Response, payload: Any, items: list[Any]
    ) -> PageRequest | None:
        cursor = dig(payload, self.cursor_path)
        if not cursor:
            return None
        return PageRequest(url=current.url, params={**current.params, self.cursor_param: cursor})


class PageTokenPaginator(BodyCursorPaginator):
    """Google's `nextPageToken` / `pageToken` convention.

    Google's REST APIs answer in the proto3 JSON mapping, which leaves out a field holding its
    default value, an empty repeated field included (https://protobuf.dev/programming-guides/json/):
    a group without members answers without `members`, a quiet day of Reports activity without
    `items`. So here an absent items key is an empty page; a present one must still be a list."""

    missing_items_mean_empty = True

    def __init__(
        self,
        items_path: str | None = None,
        *,
        token_path: str = "nextPageToken",
        token_param: str = "pageToken",
        **shape: Any,
    ) -> None:
        super().__init__(items_path, cursor_path=token_path, cursor_param=token_param, **shape)


class NextUrlPaginator(Paginator):
    """An absolute next URL in the body (Graph `@odata.nextLink`, Okta `_links.next.href`)."""

    def __init__(self, items_path: str | None = None, *, next_url_path: str = "@odata.nextLink", **shape: Any) -> None:
        super().__init__(items_path, **shape)
        self.next_url_path = next_url_path

    def next_request(
        self, current: PageRequest, response: httpx.Response, payload: Any, items: list[Any]
    ) -> PageRequest | None:
        url = payload.get(self.next_url_path) if isinstance(payload, Mapping) else None
        if url is None and "." in self.next_url_path:
            url = dig(payload, self.next_url_path)
        return PageRequest(url=str(url)) if url else None


class OffsetPaginator(Paginator):
    """offset/limit paging; stops on a short page or when `total_path` says we have it all."""

    def __init__(
        self,
        items_path: str | None = None,
        *,
        offset_param: str = "offset",
        limit_param: str = "limit",
        limit: int = 100,
        total_path: str | None = None,
        **shape: Any,
    ) -> None:
        super().__init__(items_path, **shape)
        self.offset_param = offset_param
        self.limit_param = limit_param
        self.limit = limit
        self.total_path = total_path

    def first_params(self) -> dict[str, Any]:
        return {self.offset_param: 0, self.limit_param: self.limit}

    def next_request(
        self, current: PageRequest, response: httpx.Response, payload: Any, items: list[Any]
    ) -> PageRequest | None:
        offset = int(current.params.get(self.offset_param, 0)) + len(items)
        total = dig(payload, self.total_path) if self.total_path else None
        if len(items) < self.limit or (total is not None and offset >= int(total)):
            return None
        return PageRequest(
            url=current.url,
            params={**current.params, self.offset_param: offset, self.limit_param: self.limit},
        )
