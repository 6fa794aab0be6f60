"""One listing's pages: each checked to be a page, the listing checked not to loop, and optionally
the next page fetched while the caller works on this one."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import httpx
import orjson

from saaslens.http.errors import EmptyPageError, PageShapeError, PaginationLoopError, Where
from saaslens.http.pagination import PageRequest, Paginator
from saaslens.http.redaction import redact, redact_url


@dataclass
class Page:
    items: list[Any]
    request: PageRequest
    next_request: PageRequest | None
    response: httpx.Response
    payload: Any


def _request_key(request: PageRequest) -> tuple[Any, ...]:
    """What makes two page requests the same: the URL without its query, and the query plus
    params as a sorted multiset (a next link may carry in its query what a cursor sends as a
    parameter)."""
    url = httpx.URL(request.url)
    query = parse_qsl(url.query.decode("ascii", "replace"), keep_blank_values=True)
    query += [(str(k), str(v)) for k, v in (request.params or {}).items()]
    # An RPC listing's continuation is in its JSON body (a cursor): part of what makes it the same page.
    body = orjson.dumps(request.json, option=orjson.OPT_SORT_KEYS) if request.json is not None else None
    return (url.scheme, url.host, url.port, url.path, tuple(sorted(query)), body)


class ListingGuard:
    """Remembers the requests of one listing: a next request equal to one already made means the
    provider's paging loops (a next link to itself, a cursor that comes back), and following it
    would never end."""

    def __init__(self, first: PageRequest, listing: str) -> None:
        self.listing = listing
        self._seen = {_request_key(first)}

    def check(self, page: Page) -> None:
        following = page.next_request
        if following is None:
            return
        key = _request_key(following)
        if key in self._seen:
            raise PaginationLoopError(
                f"the listing {self.listing} asks again for a page it already read (page {len(self._seen)} "
                f"points back to {redact_url(following.url)!r}): the provider's paging loops, so the listing "
                "cannot be completed",
                status=page.response.status_code,
                method=page.request.method,
                url=redact_url(page.request.url),
            )
        self._seen.add(key)


def page_from(
    request: PageRequest,
    response: httpx.Response,
    payload: Any,
    paginator: Paginator,
    url_for: Callable[[str], str],
) -> Page:
    """The page a successful answer holds. A 204, an empty body, `null` or a body of the wrong shape
    is a malformed response (retried by the caller), never an empty listing; the next request must
    stay where the credentials may go (`url_for`)."""
    where = Where(status=response.status_code, method=request.method, url=redact_url(str(response.request.url)))
    if response.status_code == 204 or payload is None:
        answer = (
            "HTTP 204 No Content"
            if response.status_code == 204
            else ("an empty body" if not response.content else "JSON null")
        )
        raise EmptyPageError(f"answered {answer} where a page of {paginator.describe()} was expected", **where)
    try:
        items = paginator.items(payload)
        next_request = paginator.next_request(request, response, payload, items)
    except PageShapeError as exc:
        raise PageShapeError(exc.detail, **where) from None
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        # A connector's own paginator reading a body of the wrong shape.
        raise PageShapeError(
            f"a page of {paginator.describe()} of an unexpected shape ({type(exc).__name__}: {redact(str(exc))})",
            **where,
        ) from None
    if next_request is not None:
        next_request = PageRequest(url=url_for(next_request.url), params=next_request.params, json=next_request.json)
    return Page(items=items, request=request, next_request=next_request, response=response, payload=payload)


def follow(first: PageRequest, fetch: Callable[[PageRequest], Page], guard: ListingGuard) -> Iterator[Page]:
    """Every page of a listing, one request at a time."""
    request: PageRequest | None = first
    while request is not None:
        page = fetch(request)
        guard.check(page)
        yield page
        request = page.next_request


def follow_ahead(first: PageRequest, fetch: Callable[[PageRequest], Page], guard: ListingGuard) -> Iterator[Page]:
    """Every page of a listing, the next one requested while the caller works on this one, so a
    sequential listing costs max(server, caller) instead of their sum. At most one request is
    ahead; an error it meets is raised when the caller asks for that page."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="saaslens-prefetch") as ahead:
        pending: Future[Page] | None = ahead.submit(fetch, first)
        try:
            while pending is not None:
                page = pending.result()
                pending = None
                guard.check(page)
                if page.next_request is not None:
                    pending = ahead.submit(fetch, page.next_request)
                yield page
        finally:
            if pending is not None:  # the caller stopped early: let the request in flight finish
                pending.cancel()
