"""Slack content fetch against Slack's real hosts (a recording transport, no network): the token goes
to https://files.slack.com and nowhere else, whatever url_private a file object names; an HTML sign-in
page or a redirect off the file host is a denial; what is skipped; which content version is stored."""

from __future__ import annotations

import io
import json
from contextlib import closing
from typing import Any

import httpx
import pytest

from saaslens.connections import ConnectionInfo
from saaslens.connectors.base import HttpContext
from saaslens.connectors.slack import APP, transform
from saaslens.connectors.slack.connector import SlackConnector
from saaslens.http import MalformedResponseError, NotFoundError, PermissionDeniedError

TOKEN = "xoxp-unit-test-token-1234567890"
CONTENTS = APP.contents
assert CONTENTS is not None and CONTENTS.skip is not None


def file_object(**overrides: Any) -> dict[str, Any]:
    file = {
        "id": "F0A12BCDE",
        "created": 1531763342,
        "timestamp": 1531763342,
        "name": "q3 report.pdf",
        "mimetype": "application/pdf",
        "filetype": "pdf",
        "user": "U012A3BCD",
        "size": 5,
        "mode": "hosted",
        "is_external": False,
        "url_private": "https://files.slack.com/files-pri/T0001-F0A12BCDE/q3%20report.pdf",
        "url_private_download": "https://files.slack.com/files-pri/T0001-F0A12BCDE/download/q3%20report.pdf",
    }
    file.update(overrides)
    return file


def row(**overrides: Any) -> dict[str, Any]:
    return transform.file_row(file_object(**overrides))


class Recorder:
    def __init__(self, answer: httpx.Response) -> None:
        self.answer = answer
        self.seen: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        return self.answer


def connector(recorder: Recorder) -> SlackConnector:
    conn = ConnectionInfo("slack_unit", "http", "https://slack.com/api", password=TOKEN)
    return SlackConnector({"retry_max_attempts": 1}, conn, HttpContext(transport=httpx.MockTransport(recorder)))


def test_the_token_goes_to_files_slack_com_over_https():
    recorder = Recorder(httpx.Response(200, content=b"%PDF-", headers={"content-type": "application/pdf"}))
    sink = io.BytesIO()
    with closing(connector(recorder)) as c:
        fetched = CONTENTS.fetch(c, row(), sink, 1 << 20)
    (request,) = recorder.seen
    assert request.url.scheme == "https" and request.url.host == "files.slack.com"
    assert request.url.raw_path == b"/files-pri/T0001-F0A12BCDE/download/q3%20report.pdf"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert sink.getvalue() == b"%PDF-" and fetched.bytes == 5
    assert (fetched.mime_type, fetched.name) == ("application/pdf", "q3 report.pdf")


@pytest.mark.parametrize(
    "url",
    [
        "https://files.slack.com.attacker.example/files-pri/T0001-F0A12BCDE/x.pdf",
        "https://attacker.example/files-pri/T0001-F0A12BCDE/x.pdf",
        "https://slack-files.com/T0001-F0A12BCDE-0123456789",  # the public link's host: no token there
        "http://files.slack.com/files-pri/T0001-F0A12BCDE/x.pdf",
        "https://files.slack.com:8443/files-pri/T0001-F0A12BCDE/x.pdf",
        "https://token@files.slack.com/files-pri/T0001-F0A12BCDE/x.pdf",
        # Loopback counts as the file host only when the Web API itself is on loopback (the sandbox).
        "http://127.0.0.1:8765/slack/acme/files-pri/T0001-F0A12BCDE/x.pdf",
        "not a url at all",
    ],
)
def test_a_url_private_off_the_file_host_is_refused_without_a_request(url):
    recorder = Recorder(httpx.Response(200, content=b"x"))
    with closing(connector(recorder)) as c, pytest.raises(MalformedResponseError) as refused:
        CONTENTS.fetch(c, row(url_private=url, url_private_download=url), io.BytesIO(), 1 << 20)
    assert recorder.seen == []
    assert "F0A12BCDE" in str(refused.value) and TOKEN not in str(refused.value)


def test_an_html_sign_in_page_is_a_denial_and_is_not_kept():
    page = b"<!DOCTYPE html><html><title>Slack</title><body>Sign in</body></html>"
    recorder = Recorder(httpx.Response(200, content=page, headers={"content-type": "text/html; charset=utf-8"}))
    sink = io.BytesIO()
    with closing(connector(recorder)) as c, pytest.raises(PermissionDeniedError) as denied:
        CONTENTS.fetch(c, row(), sink, 1 << 20)
    assert "HTML page" in str(denied.value) and sink.getvalue() == b""
    # An HTML file is content, not a sign-in page.
    html_row = row(name="page.html", mimetype="text/html", filetype="html")
    with closing(connector(recorder)) as c:
        assert CONTENTS.fetch(c, html_row, io.BytesIO(), 1 << 20).bytes == len(page)


def test_a_redirect_off_the_file_host_is_a_denial_and_not_followed():
    signin = "https://acme.slack.com/?redir=%2Ffiles-pri%2FT0001-F0A12BCDE%2Fq3%2520report.pdf"
    recorder = Recorder(httpx.Response(302, headers={"location": signin}))
    with closing(connector(recorder)) as c, pytest.raises(PermissionDeniedError) as denied:
        CONTENTS.fetch(c, row(), io.BytesIO(), 1 << 20)
    assert [r.url.host for r in recorder.seen] == ["files.slack.com"]
    assert "redirected" in str(denied.value)


def test_a_404_from_the_file_host_is_not_found():
    recorder = Recorder(httpx.Response(404, content=b"File not found", headers={"content-type": "text/plain"}))
    with closing(connector(recorder)) as c, pytest.raises(NotFoundError):
        CONTENTS.fetch(c, row(), io.BytesIO(), 1 << 20)


def test_files_without_content_of_their_own_are_skipped_with_the_reason():
    assert CONTENTS.skip(row()) is None
    external = row(mode="external", is_external=True, external_type="gdrive", url_private=None)
    assert CONTENTS.skip(external) == "an external file (gdrive): its content is held outside Slack"
    assert "Slack-native" in (CONTENTS.skip(row(mode="post", filetype="space")) or "")
    assert "Slack-native" in (CONTENTS.skip(row(filetype="quip", mode="hosted")) or "")
    assert "tombstone" in (CONTENTS.skip(row(mode="tombstone")) or "")
    assert "no url_private" in (CONTENTS.skip(row(url_private=None, url_private_download=None)) or "")


def test_content_version_trash_state_and_labels():
    assert row()["content_version"] == "1531763342"  # hosted: the upload's time; bytes never replaced
    assert row(updated=1700000000)["content_version"] == "1531763342"  # metadata changes do not count
    assert row(mode="post", updated=1700000000)["content_version"] == "1700000000"  # a Post's last edit
    assert row(mode="snippet", edit_timestamp=1690000000)["content_version"] == "1690000000"
    assert row(created=None, timestamp=None)["content_version"] is None
    assert (row()["trashed"], row()["sensitivity_label"], row()["sensitivity_label_id"]) == (False, None, None)
    assert json.loads(row()["raw"])["id"] == "F0A12BCDE"


def test_change_events_are_the_audit_logs_file_actions():
    assert CONTENTS.change_events == {"file_uploaded", "file_shared", "file_public_link_created"}
    event = {"action": "file_shared", "target_type": "file", "target_id": "F0A12BCDE"}
    assert CONTENTS.event_file(event) == "F0A12BCDE"
