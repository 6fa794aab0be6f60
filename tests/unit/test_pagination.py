from __future__ import annotations

import httpx
import pytest

from saaslens.http import ApiClient
from saaslens.http.pagination import (
    BodyCursorPaginator,
    LinkHeaderPaginator,
    NextUrlPaginator,
    OffsetPaginator,
    PageRequest,
    PageTokenPaginator,
)

BASE = "https://api.example.com"
ITEMS = [{"id": i} for i in range(23)]  # records are JSON objects, as at every provider


def serve(handler) -> ApiClient:
    return ApiClient(BASE, transport=httpx.MockTransport(handler), sleep=lambda s: None)


def link_handler(request: httpx.Request) -> httpx.Response:
    after = int(request.url.params.get("after", 0))
    limit = int(request.url.params.get("limit", 10))
    page = ITEMS[after : after + limit]
    headers = {}
    if after + limit < len(ITEMS):
        headers["Link"] = f'<{BASE}/items?after={after + limit}&limit={limit}>; rel="next", <{request.url}>; rel="self"'
    return httpx.Response(200, json=page, headers=headers)


def test_link_header_walks_every_item_once():
    client = serve(link_handler)
    assert list(client.iter_items("/items", LinkHeaderPaginator(), {"limit": 10})) == ITEMS


def test_link_header_resume_from_checkpoint():
    client = serve(link_handler)
    pages = list(client.paginate("/items", LinkHeaderPaginator(), {"limit": 10}))
    checkpoint = pages[0].next_request.to_state()
    resumed = client.paginate("/items", LinkHeaderPaginator(), resume=PageRequest.from_state(checkpoint))
    assert [i for p in resumed for i in p.items] == ITEMS[10:]


def test_polling_feed_stops_on_empty_page():
    def handler(request):
        after = int(request.url.params.get("after", 0))
        page = ITEMS[after : after + 10]
        return httpx.Response(200, json=page, headers={"Link": f'<{BASE}/logs?after={after + len(page)}>; rel="next"'})

    client = serve(handler)
    assert list(client.iter_items("/logs", LinkHeaderPaginator(stop_on_empty_page=True))) == ITEMS


def test_body_cursor():
    def handler(request):
        cursor = int(request.url.params.get("cursor") or 0)
        nxt = cursor + 10 if cursor + 10 < len(ITEMS) else ""
        return httpx.Response(
            200,
            json={
                "ok": True,
                "members": ITEMS[cursor : cursor + 10],
                "response_metadata": {"next_cursor": str(nxt) if nxt else ""},
            },
        )

    client = serve(handler)
    assert list(client.iter_items("/users.list", BodyCursorPaginator("members"), {"limit": 10})) == ITEMS


def test_page_token():
    def handler(request):
        start = int(request.url.params.get("pageToken") or 0)
        body = {"users": ITEMS[start : start + 7]}
        if start + 7 < len(ITEMS):
            body["nextPageToken"] = str(start + 7)
        return httpx.Response(200, json=body)

    client = serve(handler)
    assert list(client.iter_items("/users", PageTokenPaginator("users"))) == ITEMS


def test_next_url_in_body_including_nested_path():
    def handler(request):
        start = int(request.url.params.get("skip") or 0)
        body = {"value": ITEMS[start : start + 5]}
        if start + 5 < len(ITEMS):
            body["@odata.nextLink"] = f"{BASE}/users?skip={start + 5}"
            body["_links"] = {"next": {"href": f"{BASE}/users?skip={start + 5}"}}
        return httpx.Response(200, json=body)

    client = serve(handler)
    assert list(client.iter_items("/users", NextUrlPaginator("value"))) == ITEMS
    assert list(client.iter_items("/users", NextUrlPaginator("value", next_url_path="_links.next.href"))) == ITEMS


def test_offset_paging_stops_on_short_page_and_total():
    def handler(request):
        offset = int(request.url.params["offset"])
        limit = int(request.url.params["limit"])
        return httpx.Response(200, json={"total": len(ITEMS), "entries": ITEMS[offset : offset + limit]})

    client = serve(handler)
    assert list(client.iter_items("/files", OffsetPaginator("entries", limit=5, total_path="total"))) == ITEMS
    assert list(client.iter_items("/files", OffsetPaginator("entries", limit=5))) == ITEMS


def test_items_path_must_be_a_list():
    client = serve(lambda r: httpx.Response(200, json={"value": {"not": "a list"}}))
    with pytest.raises(Exception, match="expected a list"):
        list(client.iter_items("/x", NextUrlPaginator("value")))
