"""Microsoft 365 content fetch against a stand-in network: Graph's /content redirect is followed to a
SharePoint storage host without the Graph token, and refused to any other host; what has no content is
skipped; extractSensitivityLabels answers are read in both documented shapes."""

from __future__ import annotations

import io
import json
from contextlib import closing
from typing import Any

import httpx
import pytest

from saaslens.connections import ConnectionInfo
from saaslens.connectors.base import HttpContext
from saaslens.connectors.microsoft365 import Microsoft365Connector
from saaslens.connectors.microsoft365.contents import drive_of, fetch, skip
from saaslens.connectors.microsoft365.files import LabelReader
from saaslens.http import ApiError, NotFoundError

GRAPH = "https://graph.microsoft.com"
TOKEN_URL = "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
TOKEN = "graph-token-5e8a1c"
BODY = b"PK\x03\x04" + b"x" * 4096


class Network:
    """The token endpoint, Graph and two storage hosts; remembers who was asked what, with which header."""

    def __init__(self, location: str) -> None:
        self.location = location
        self.seen: list[tuple[str, str | None]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append((str(request.url), request.headers.get("authorization")))
        if str(request.url) == TOKEN_URL:
            return httpx.Response(200, json={"token_type": "Bearer", "expires_in": 3599, "access_token": TOKEN})
        if request.url.host == "graph.microsoft.com" and request.url.path.endswith("/content"):
            return httpx.Response(302, headers={"Location": self.location})
        return httpx.Response(
            200, content=BODY, headers={"Content-Type": "application/octet-stream", "Content-Length": str(len(BODY))}
        )


def connector(network: Network, **options: Any) -> Microsoft365Connector:
    connection = ConnectionInfo(
        "m365_unit",
        "http",
        GRAPH,
        extra={"client_id": "c1d2", "client_secret": "unit-secret", "token_url": TOKEN_URL},
    )
    http = HttpContext(transport=httpx.MockTransport(network))
    return Microsoft365Connector({"retry_max_attempts": 1, **options}, connection, http)


def row(**raw: Any) -> dict[str, Any]:
    item = {"id": "01ABC", "name": "Q3 payroll.xlsx", "parentReference": {"driveId": "b!drive1"}, **raw}
    return {
        "file_id": "01ABC",
        "name": "Q3 payroll.xlsx",
        "mime_type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "raw": json.dumps(item),
    }


def test_the_redirect_to_sharepoint_is_followed_without_the_graph_token():
    network = Network("https://contoso.sharepoint.com/sites/fin/_layouts/15/download.aspx?UniqueId=1&tempauth=v1.x")
    sink = io.BytesIO()
    with closing(connector(network)) as c:
        fetched = fetch(c, row(file={"mimeType": "x"}), sink, 1 << 20)
    assert sink.getvalue() == BODY and fetched.bytes == len(BODY)
    assert fetched.mime_type == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    graph = [auth for url, auth in network.seen if url.startswith(GRAPH)]
    storage = [auth for url, auth in network.seen if "sharepoint.com" in url]
    assert graph == [f"Bearer {TOKEN}"] and storage == [None]
    assert network.seen[1][0] == f"{GRAPH}/v1.0/drives/b%21drive1/items/01ABC/content"


@pytest.mark.parametrize(
    "location",
    ["https://evil.example.com/steal?x=1", "https://sharepoint.com.evil.example/x", "http://contoso.sharepoint.com/x"],
)
def test_a_redirect_anywhere_else_is_refused_and_never_sent_anything(location):
    network = Network(location)
    with closing(connector(network)) as c, pytest.raises(ApiError):
        fetch(c, row(file={}), io.BytesIO(), 1 << 20)
    assert not any(url.startswith(location.split("?")[0]) for url, _ in network.seen)


def test_a_file_over_the_cap_is_refused_from_its_content_length():
    network = Network("https://contoso-my.sharepoint.com/personal/a/_layouts/15/download.aspx?x=1")
    sink = io.BytesIO()
    with closing(connector(network)) as c, pytest.raises(ApiError) as refused:
        fetch(c, row(file={}), sink, 100)
    assert type(refused.value).__name__ == "ContentTooLargeError" and sink.getvalue() == b""


def test_what_has_no_content_is_skipped_and_a_row_without_a_drive_is_not_found():
    assert skip(row(folder={"childCount": 2})) == "a folder"
    assert skip(row(package={"type": "oneNote"})) == "a oneNote"
    assert skip(row()) is not None
    assert skip(row(file={"mimeType": "text/plain"})) is None
    with pytest.raises(NotFoundError):
        drive_of({"file_id": "x", "raw": json.dumps({"id": "x"})})


def test_labels_are_read_in_both_shapes_preferring_the_tenants_own():
    reader = LabelReader.__new__(LabelReader)
    reader.names = {"own-label": "Confidential"}
    other = {"sensitivityLabelId": "foreign", "assignmentMethod": "standard", "tenantId": "t2"}
    own = {"sensitivityLabelId": "own-label", "assignmentMethod": "auto", "tenantId": "t1"}
    assert reader._first({"value": {"labels": [other, own]}}) == ("own-label", "Confidential")
    assert reader._first({"labels": [other]}) == ("foreign", None)
    assert reader._first({"value": {"labels": []}}) == (None, None)
    assert reader._first({"value": "nonsense"}) == (None, None)
    assert reader._first(["not", "an", "object"]) == (None, None)
