"""Near-real-time content inspection under the real scheduler (bench/dlp_near_real_time.py): a file
uploaded and shared publicly in a Slack sandbox tenant is scanned by an asset-triggered run of the
instance's DLP DAG, which reads that file alone, and its finding reaches the catalog. The latency is
recorded by the benchmark (docs/benchmarks.md), not asserted here."""

from __future__ import annotations

import pytest

from bench.dlp_near_real_time import measure


@pytest.mark.scheduler
@pytest.mark.integration
@pytest.mark.slow
def test_an_uploaded_public_file_is_inspected_by_an_asset_triggered_run(tmp_path):
    report = measure(1, tmp_path, timeout=420)
    (upload,) = report["uploads"]
    assert upload["dlp_run_type"] == "asset_triggered", upload
    assert upload["scanned_in_that_run"] == 1, upload  # the announced file only, not the tenant
    assert upload["matches"] == upload["planted"], upload
    assert upload["policies"], upload  # public and sensitive: at least one policy broken
