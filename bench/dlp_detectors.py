"""Detector throughput on extracted text: saaslens' validated detectors against a plain
`detect-secrets scan` of the same text, in the same run.

A deterministic corpus of business-like lines (names, amounts, order numbers, dates, prose) with
planted sensitive values (cards, IBANs, SSNs, keys) and decoys that fail validation is written to a
text file. Then, each in its own process so neither warms the other:

- **saaslens**: every default detector (cards, IBAN, national ids, detect-secrets' credentials,
  email, phone) over the file in 1 MiB pieces, as the DLP scan runs them;
- **saaslens per detector**: each detector alone, to show where the time goes;
- **detect-secrets**: the `detect-secrets scan` command on the same file (credentials only).

Reported: CPU seconds of the scanning process (the figure to compare on a shared machine), wall
seconds, MB/s per core (text megabytes over CPU seconds), and the ratio of saaslens' MB/s to
detect-secrets'. The planted values found are checked against the corpus' own count.

    .venv/bin/python bench/dlp_detectors.py                      # 20 MB of text
    .venv/bin/python bench/dlp_detectors.py --megabytes 1        # smoke size
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

FIRST = ["Ana", "Ben", "Chen", "Dara", "Eli", "Fatima", "Goran", "Hana", "Ivan", "Jo", "Kemal", "Lena"]
LAST = ["Silva", "Okafor", "Nguyen", "Schmidt", "Rossi", "Kowalski", "Haddad", "Larsen", "Ito", "Moreau"]
SENTENCE = (
    "the quarterly review shows revenue growth across regions while costs stayed flat and the team "
    "plans to expand the pilot program next month pending approval from finance and legal"
)
WORDS = SENTENCE.split(" ")
PLANTED = {
    "payment_card": ["4111 1111 1111 1111", "5555-5555-5555-4444", "3782 822463 10005"],
    "iban": ["GB82 WEST 1234 5698 7654 32", "DE89370400440532013000"],
    "us_ssn": ["536-22-1234"],
    "credential": ["AKIAIOSFODNN7EXAMPLF", "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"],
}
DECOYS = ["4111 1111 1111 1112", "GB82 WEST 1234 5698 7654 33", "000-12-3456", 'password = "${DB_PASSWORD}"']


def write_corpus(path: Path, megabytes: float, seed: int = 7) -> dict[str, int]:
    """A text file of about `megabytes` MB; returns how many of each planted kind it holds."""
    rng = random.Random(seed)
    planted = dict.fromkeys(PLANTED, 0)
    target = int(megabytes * 1_000_000)
    written = 0
    with path.open("w", encoding="utf-8") as out:
        line_no = 0
        while written < target:
            line_no += 1
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
            prose = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 18)))
            amount = f"${rng.randint(1, 99999)}.{rng.randint(0, 99):02d}"
            line = f"{line_no}\t{name}\torder {rng.randint(10**9, 10**10)}\t{amount}\t{prose}"
            if line_no % 40 == 0:
                kind = rng.choice(sorted(PLANTED))
                line += f"\t{kind.replace('_', ' ')}: {rng.choice(PLANTED[kind])}"
                planted[kind] += 1
            elif line_no % 40 == 20:
                line += f"\t{rng.choice(DECOYS)}"
            out.write(line + "\n")
            written += len(line) + 1
    return planted


SCAN_CODE = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[3])
from saaslens.dlp import detectors as d
from saaslens.dlp.inspect import inspect_pieces

class Piece:
    def __init__(self, text, offset):
        self.text, self.offset = text, offset

def pieces(path, size=1 << 20):
    offset, buffer = 0, []
    held = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            buffer.append(line); held += len(line)
            if held >= size:
                text = "".join(buffer); yield Piece(text, offset); offset += len(text); buffer, held = [], 0
    if buffer:
        yield Piece("".join(buffer), offset)

which = sys.argv[2]
chosen = d.default_detectors()
if which != "all":
    chosen = [x for x in chosen if x.id == which]
t0, c0 = time.perf_counter(), time.process_time()
result = inspect_pieces(pieces(sys.argv[1]), chosen, b"bench-key" * 4, min_confidence=0.7)
wall, cpu = time.perf_counter() - t0, time.process_time() - c0
counts = {}
for s in result.summaries():
    key = s.detector.split(":", 1)[0]
    counts[key] = counts.get(key, 0) + s.count
print(json.dumps({"wall_seconds": wall, "cpu_seconds": cpu, "counts": counts,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_saaslens(path: Path, which: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", SCAN_CODE, str(path), which, str(ROOT / "include")],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run_detect_secrets(path: Path) -> dict[str, Any]:
    """`detect-secrets scan FILE`, timed with the child's own CPU seconds."""
    command = [str(Path(sys.executable).parent / "detect-secrets"), "scan", path.name]
    code = (
        "import json, resource, subprocess, sys, time\n"
        "t0 = time.perf_counter()\n"
        "out = subprocess.run(sys.argv[1:], capture_output=True, text=True, check=True).stdout\n"
        "wall = time.perf_counter() - t0\n"
        "usage = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "found = json.loads(out)['results']\n"
        "print(json.dumps({'wall_seconds': wall, 'cpu_seconds': usage.ru_utime + usage.ru_stime,\n"
        "  'secrets': sum(len(v) for v in found.values()), 'peak_rss_mb': usage.ru_maxrss / 1024}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *command], capture_output=True, text=True, check=True, cwd=path.parent
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megabytes", type=float, default=20.0)
    parser.add_argument("--per-detector", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "dlp_detectors.json")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="saaslens-dlp-bench-") as directory:
        corpus = Path(directory) / "extracted.txt"
        planted = write_corpus(corpus, args.megabytes)
        megabytes = corpus.stat().st_size / 1_000_000
        ours = run_saaslens(corpus, "all")
        theirs = run_detect_secrets(corpus)
        per_detector: dict[str, Any] = {}
        if args.per_detector:
            from saaslens.dlp.detectors import default_detectors

            for detector in default_detectors():
                per_detector[detector.id] = run_saaslens(corpus, detector.id)

    def rate(result: dict[str, Any]) -> float:
        return megabytes / result["cpu_seconds"] if result["cpu_seconds"] else float("inf")

    missed = {kind: planted[kind] - ours["counts"].get(kind, 0) for kind in planted}
    report = {
        "benchmark": "dlp_detectors",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "text_megabytes": round(megabytes, 2),
        "planted": planted,
        "missed": missed,
        "saaslens": {**ours, "mb_per_cpu_second": round(rate(ours), 3)},
        "detect_secrets": {**theirs, "mb_per_cpu_second": round(rate(theirs), 3)},
        "ratio_saaslens_to_detect_secrets": round(rate(ours) / rate(theirs), 3),
        "per_detector": {k: {**v, "mb_per_cpu_second": round(rate(v), 3)} for k, v in per_detector.items()},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"{megabytes:.1f} MB of text; planted {planted}; missed {missed}")
    print(f"saaslens (all detectors): {rate(ours):.2f} MB/s per core ({ours['cpu_seconds']:.1f} s CPU)")
    print(f"detect-secrets scan:      {rate(theirs):.2f} MB/s per core ({theirs['cpu_seconds']:.1f} s CPU)")
    print(f"ratio saaslens / detect-secrets: {report['ratio_saaslens_to_detect_secrets']}")
    for name, value in report["per_detector"].items():
        print(f"  {name:20s} {value['mb_per_cpu_second']:8.2f} MB/s per core")


if __name__ == "__main__":
    main()
