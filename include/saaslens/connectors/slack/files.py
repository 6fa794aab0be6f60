"""The files stage: files.list (files:read; Tier 3; `page` / `count` paging),
https://api.slack.com/methods/files.list, each file with its shares (channels, and the public link)."""

from __future__ import annotations

from collections.abc import Iterator

from saaslens.connectors.kit import JSON, Batch, Probe, SnapshotStage
from saaslens.connectors.slack import transform
from saaslens.connectors.slack.connector import PageNumberPaginator, SlackConnector
from saaslens.vocabulary import Stage


def scan_files(connector: SlackConnector, resume: JSON | None) -> Iterator[Batch]:
    paginator = PageNumberPaginator("files", count=connector.page_size(1000, 200))
    for page in connector.client.paginate("files.list", paginator, connector.team()):
        yield Batch("files", [transform.file_row(file) for file in page.items])
        shares = [row for file in page.items for row in transform.share_rows(file)]
        if shares:
            yield Batch("file_shares", shares)


STAGE = SnapshotStage(
    stage=Stage.FILES,
    scan=scan_files,
    permission="files:read",
    probe=Probe("files.list", {"count": 1}),
)
