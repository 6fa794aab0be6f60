"""report.html: one self-contained page (inline CSS and SVG, no script, no external resource).

Every value from the lake passes through `esc` (HTML-escaped); the Content-Security-Policy meta
tag forbids the page from loading anything, so even an unescaped value could not call out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import pyarrow as pa

from saaslens.lake.schema import POSTURE_STATUSES
from saaslens.reports import svg
from saaslens.reports.collect import SEVERITY_ORDER, FindingResult, PostureSummary, ReportData
from saaslens.reports.freshness import NOT_CURRENT, STATE_LABELS, InstanceFreshness
from saaslens.vocabulary import STAGE_ORDER

esc = svg.esc
MAX_CELL = 160

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#111827;background:#f9fafb}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:32px 0 8px;border-bottom:1px solid #e5e7eb}
h3{font-size:16px;margin:24px 0 4px}
.meta{color:#4b5563;font-size:13px}
table{border-collapse:collapse;width:100%;font-size:12.5px;background:#fff;margin:8px 0}
th,td{border:1px solid #e5e7eb;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f3f4f6}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:1px 7px;border-radius:9px;font-size:11.5px;font-weight:600;color:#fff}
.sev-high{background:#dc2626}.sev-medium{background:#f97316}.sev-low{background:#2563eb}.sev-info{background:#6b7280}
.st-failed,.st-never_run,.st-stale{background:#dc2626}.st-skipped{background:#ca8a04}.st-ok{background:#16a34a}
.alert{border-left:4px solid #dc2626;background:#fef2f2;padding:8px 12px;margin:8px 0;font-size:13px}
.warn{border-left:4px solid #ca8a04;background:#fefce8;padding:8px 12px;margin:8px 0;font-size:13px}
.note{border-left:4px solid #2563eb;background:#eff6ff;padding:8px 12px;margin:8px 0;font-size:13px}
.finding{background:#fff;border:1px solid #e5e7eb;border-radius:6px;padding:4px 16px 12px;margin:16px 0}
.chart{max-width:100%;height:auto;display:block;margin:8px 0}
code{font-size:12px;background:#f3f4f6;padding:0 3px}
ul.toc{columns:2;font-size:13px}
"""


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, datetime):
        text = value.strftime("%Y-%m-%d %H:%M")
    elif isinstance(value, date):
        text = value.isoformat()
    elif isinstance(value, list | tuple):
        text = ", ".join("" if v is None else str(v) for v in value)
    elif isinstance(value, int) and not isinstance(value, bool):
        return f'<td class="num">{value:,}</td>'
    else:
        text = str(value)
    if len(text) > MAX_CELL:
        return f'<td title="{esc(text)}">{esc(text[:MAX_CELL])}…</td>'
    return f"<td>{esc(text)}</td>"


def badge(css: str, text: str) -> str:
    return f'<span class="badge {css}">{esc(text)}</span>'


def _table(headers: Sequence[str], rows: Sequence[str]) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _anchor(finding_id: str) -> str:
    return "finding-" + "".join(c if c.isalnum() else "-" for c in finding_id)


def render(data: ReportData, max_rows: int) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        # Nothing may be fetched: no scripts, fonts, images or styles from anywhere.
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
        'img-src data:">',
        '<meta name="viewport" content="width=device-width,initial-scale=1">',
        f"<title>saaslens compliance report {esc(data.report_date.isoformat())}</title>",
        f"<style>{CSS}</style></head><body><main>",
        f"<h1>Compliance report {esc(data.report_date.isoformat())}</h1>",
        f'<p class="meta">Generated {esc(data.generated_at.strftime("%Y-%m-%d %H:%M:%S"))} UTC by saaslens from the '
        f"lake at <code>{esc(data.lake_root)}</code>. Findings are computed from each instance's newest published "
        "snapshot and the stored activity events.</p>",
        _overview(data),
        _instances(data),
        _charts(data),
        _content(data),
        _posture(data, max_rows),
        _findings(data, max_rows),
        _coverage(data),
        "</main></body></html>",
    ]
    return "\n".join(parts)


def _overview(data: ReportData) -> str:
    not_current = [i for i in data.instances if i.enabled and not i.current]
    partial = [i for i in data.instances if i.enabled and i.current and i.state == "skipped"]
    items = []
    for result in data.findings:
        status = (
            badge("st-failed", "error")
            if result.error
            else f"{result.count:,} row{'s' if result.count != 1 else ''}"
            + (" " + badge("st-stale", "incomplete") if result.affected else "")
        )
        items.append(
            f"<li>{badge('sev-' + result.finding.severity, result.finding.severity)} "
            f'<a href="#{_anchor(result.finding.id)}">{esc(result.finding.title)}</a>: {status}</li>'
        )
    out = ["<h2>Overview</h2>"]
    if data.config_note:
        out.append(f'<div class="warn">{esc(data.config_note)}</div>')
    if not_current:
        names = ", ".join(f"{i.label} ({STATE_LABELS[i.state]})" for i in not_current)
        out.append(
            f'<div class="alert" id="not-current"><strong>{len(not_current)} of {len(data.instances)} instances are '
            f"not current:</strong> {esc(names)}. Their data is missing or old, so an empty finding does not mean "
            "they are clean.</div>"
        )
    else:
        out.append(f'<div class="note">All {len(data.instances)} instances have current data.</div>')
    if partial:
        names = ", ".join(i.label for i in partial)
        out.append(f'<div class="warn">Partly collected (a stage was skipped): {esc(names)}.</div>')
    out.append(f'<ul class="toc">{"".join(items)}</ul>')
    return "\n".join(out)


def _stage_cell(item: InstanceFreshness, stage: str) -> str:
    state = item.stages.get(stage)
    if state is None:
        return '<td class="na">n/a</td>'
    when = state.run.ended_at.strftime("%Y-%m-%d %H:%M") if state.run else "never"
    label = badge("st-" + state.state, state.state.replace("_", " "))
    return f'<td title="{esc(state.detail)}">{label}<br>{esc(when)}</td>'


def _instances(data: ReportData) -> str:
    stages = list(STAGE_ORDER)
    rows = []
    details = []
    for item in data.instances:
        counts = data.accounts.get((item.app, item.instance), {})
        breakdown = ", ".join(f"{status} {n:,}" for status, n in sorted(counts.items(), key=lambda kv: -kv[1]))
        flag = badge("st-" + item.state, STATE_LABELS[item.state])
        if not item.enabled:
            flag = badge("sev-info", "disabled")
        rows.append(
            f"<tr><td>{esc(item.label)}</td><td>{flag}</td><td>{esc(item.schedule or 'none')}<br>"
            f"stale after {esc(_hours(item.stale_after))}</td>"
            f'<td class="num">{sum(counts.values()):,}</td><td>{esc(breakdown)}</td>'
            f'<td class="num">{data.admins.get((item.app, item.instance), 0):,}</td>'
            + "".join(_stage_cell(item, s) for s in stages)
            + "</tr>"
        )
        problems = item.problems()
        if problems and item.enabled:
            css = "alert" if any(p.state in NOT_CURRENT for p in problems) else "warn"
            lines = "".join(
                f"<li><strong>{esc(p.stage)}</strong> {esc(STATE_LABELS[p.state])}: {esc(p.detail)}</li>"
                for p in problems
            )
            details.append(f'<div class="{css}">{esc(item.label)}<ul>{lines}</ul></div>')
    headers = ["instance", "state", "schedule", "accounts", "by status", "admins", *stages]
    return "<h2 id='instances'>Instances</h2>" + _table(headers, rows) + "".join(details)


def _content(data: ReportData) -> str:
    """Content inspection: what was read of each instance's files. Unreadable and skipped files are
    shown, never hidden: an encrypted file is a file nobody inspected."""
    if not data.content:
        return ""
    statuses = ["scanned", "unreadable", "skipped", "not-found", "denied", "failed", "not scanned yet"]
    rows = []
    for (app, instance), item in sorted(data.content.items()):
        last = item.last_scan.strftime("%Y-%m-%d %H:%M") if item.last_scan else "never"
        rows.append(
            f"<tr><td>{esc(app)}/{esc(instance)}</td><td>{esc(last)}</td>"
            f'<td class="num">{item.listed_files:,}</td>'
            + "".join(f'<td class="num">{item.statuses.get(s, 0):,}</td>' for s in statuses)
            + f'<td class="num">{item.files_breaking_policies:,}</td></tr>'
        )
    headers = ["instance", "last scan (UTC)", "files listed", *statuses, "breaking a policy"]
    return (
        "<h2 id='content'>Content inspection</h2>"
        "<p>Each file's newest scan (include/dlp_policies.yaml; docs/dlp.md). The files breaking a policy are "
        "listed under the finding <em>Files whose content breaks a DLP policy</em>, with masked previews only.</p>"
        + _table(headers, rows)
    )


# What a rule can be, and muted, which only the views show (an unexpired mute over any of them).
_POSTURE_STATUSES = (*POSTURE_STATUSES, "muted")


def _score(counts: dict[str, int]) -> str:
    score = PostureSummary.score(counts)
    return "n/a" if score is None else f"{score:.0%}"


def _posture(data: ReportData, max_rows: int) -> str:
    """Security posture: a score per instance and per baseline, the failing rules and what changed
    since the previous report with the admin event behind each change. Not evaluated and muted rules
    are counted apart, never as passing."""
    posture = data.posture
    if posture is None:
        return ""
    instance_rows = [
        f"<tr><td>{esc(app)}/{esc(instance)}</td><td class='num'>{_score(counts)}</td>"
        + "".join(f"<td class='num'>{counts.get(s, 0):,}</td>" for s in _POSTURE_STATUSES)
        + "</tr>"
        for (app, instance), counts in sorted(posture.instances.items())
    ]
    baseline_rows = [
        f"<tr><td>{esc(family)}</td><td class='num'>{_score(counts)}</td>"
        + "".join(f"<td class='num'>{counts.get(s, 0):,}</td>" for s in _POSTURE_STATUSES)
        + "</tr>"
        for family, counts in sorted(posture.baselines.items())
    ]
    headers = ["score (pass / evaluated)", "pass", "fail", "not evaluated", "muted"]
    failing = posture.failing.to_pylist()
    failing.sort(key=lambda r: (SEVERITY_ORDER.index(r["severity"]), r["app"], r["instance"], r["rule_id"]))
    failing_rows = [
        f"<tr><td>{badge('sev-' + r['severity'], r['severity'])}</td><td>{esc(r['app'])}/{esc(r['instance'])}</td>"
        f"<td><code>{esc(r['rule_id'])}</code><br>{esc(r['title'])}</td><td>{esc(r['detail'] or '')}</td>"
        f"<td>{esc(', '.join(r['baselines'] or []))}</td></tr>"
        for r in failing[:max_rows]
    ]
    more = f"<p>{len(failing) - max_rows:,} more in posture.csv.</p>" if len(failing) > max_rows else ""
    changes = posture.changes.to_pylist()
    change_rows = [
        f"<tr><td>{esc(c['evaluated_at'].strftime('%Y-%m-%d %H:%M'))}</td><td>{esc(c['app'])}/{esc(c['instance'])}</td>"
        f"<td><code>{esc(c['rule_id'])}</code></td><td>{esc(c['previous_status'])} &rarr; {esc(c['status'])}</td>"
        f"<td>{esc(c['action'] or 'no matching admin event stored')}"
        + (f" by {esc(c['actor_login'])}" if c["actor_login"] else "")
        + (f" at {esc(c['occurred_at'].strftime('%Y-%m-%d %H:%M'))}" if c["occurred_at"] else "")
        + "</td></tr>"
        for c in changes[:max_rows]
    ]
    since = posture.changes_since.strftime("%Y-%m-%d %H:%M")
    return (
        "<h2 id='posture'>Security posture</h2>"
        "<p>Each instance's newest evaluation of the posture rules (include/posture/; docs/posture.md). The score is "
        "the share of evaluated rules that pass: rules not evaluated (a permission or licence missing, a setting the "
        "API does not expose) and muted rules are counted apart, never as passing.</p>"
        + _table(["instance", *headers], instance_rows)
        + "<h3>By baseline</h3>"
        + _table(["baseline", *headers], baseline_rows)
        + f"<h3>Failing rules ({len(failing):,})</h3>"
        + (
            _table(["severity", "instance", "rule", "what it saw", "baselines"], failing_rows)
            if failing
            else "<p>None.</p>"
        )
        + more
        + f"<h3>Changes since {esc(since)} UTC ({len(changes):,})</h3>"
        + (
            _table(["evaluated (UTC)", "instance", "rule", "change", "admin event in the window"], change_rows)
            if changes
            else "<p>None.</p>"
        )
    )


def _hours(delta: Any) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:,.0f} h" if hours < 96 else f"{hours / 24:,.0f} d"


def _charts(data: ReportData) -> str:
    c = data.charts
    status_series = sorted({s for _, s in c["status"]["values"]}, key=_status_rank)
    sharing_series = sorted({s for _, s in c["sharing"]["values"]}, key=_visibility_rank)
    return "\n".join(
        [
            "<h2 id='charts'>Charts</h2>",
            "<h3>Accounts by status</h3>",
            svg.stacked_bars(
                "Accounts by status per instance", c["status"]["rows"], status_series, c["status"]["values"]
            ),
            "<h3>Admins over time</h3>",
            '<p class="meta">Accounts with an administrative role in each published snapshot.</p>',
            svg.line_chart("Admins per instance over time", c["admins"]["series"]),
            "<h3>Sign-in failures per day</h3>",
            f'<p class="meta">Failed sign-in events per UTC day over the last {len(c["signins"]["days"])} days, '
            "by app.</p>",
            svg.day_bars("Failed sign-ins per day", c["signins"]["days"], c["signins"]["apps"], c["signins"]["values"]),
            "<h3>Sharing exposure</h3>",
            '<p class="meta">Files by their widest exposure.</p>',
            svg.stacked_bars(
                "Files by visibility per instance",
                c["sharing"]["rows"],
                sharing_series,
                c["sharing"]["values"],
                empty="no files collected: no instance's connector lists files, or none has scanned them yet",
            ),
        ]
    )


def _status_rank(name: str) -> tuple[int, str]:
    order = ("active", "pending", "locked", "suspended", "deprovisioned")
    return (order.index(name) if name in order else len(order), name)


def _visibility_rank(name: str) -> tuple[int, str]:
    order = ("public", "external", "internal", "private")
    return (order.index(name) if name in order else len(order), name)


def _findings(data: ReportData, max_rows: int) -> str:
    out = ["<h2 id='findings'>Findings</h2>"]
    for result in data.findings:
        out.append(_finding(result, data, max_rows))
    return "\n".join(out)


def _finding(result: FindingResult, data: ReportData, max_rows: int) -> str:
    f = result.finding
    params = ", ".join(f"{k} = {v}" for k, v in result.params.items()) or "none"
    out = [
        f'<section class="finding" id="{_anchor(f.id)}">',
        f"<h3>{badge('sev-' + f.severity, f.severity)} {esc(f.title)}</h3>",
        f"<p>{esc(f.description)}</p>",
        f'<p class="meta">id <code>{esc(f.id)}</code> · key {esc(", ".join(f.key))} · params {esc(params)} · '
        f"files <code>{esc(f.id)}.csv</code>, <code>{esc(f.id)}.parquet</code></p>",
    ]
    if result.error:
        out.append(f'<div class="alert"><strong>This finding failed to run:</strong> {esc(result.error)}</div>')
        out.append("</section>")
        return "\n".join(out)
    if result.affected:
        lines = "; ".join(
            f"{item.label}: " + ", ".join(f"{p.stage} {STATE_LABELS[p.state]}" for p in problems)
            for item, problems in result.affected
        )
        css = "alert" if any(p.state in NOT_CURRENT for _, ps in result.affected for p in ps) else "warn"
        out.append(
            f'<div class="{css}"><strong>Incomplete:</strong> the data this finding reads is not current for '
            f"{esc(lines)}. Rows may be missing for those instances.</div>"
        )
    for note in result.notes:
        out.append(f'<div class="note">{esc(note)}</div>')
    if f.suggests is not None:
        out.append(
            f'<p class="meta">Suggested remedy: <code>{esc(f.suggests.value)}</code>, the '
            "<code>suggested_action</code> column names the action of each row's app (empty where its app has "
            "none). Run it from the instance's governance DAG (dry run first, then approved) or "
            "<code>saaslens act INSTANCE ACTION --target ID</code>; an <code>auto_remediate</code> policy in "
            "the connected-apps file runs it after each report.</p>"
        )
    table = result.table
    assert table is not None
    out.append(f"<p><strong>{table.num_rows:,}</strong> row{'s' if table.num_rows != 1 else ''}.</p>")
    if table.num_rows:
        out.append(_rows_table(table, max_rows))
        if table.num_rows > max_rows:
            out.append(
                f'<p class="meta">{table.num_rows - max_rows:,} more in the CSV (<code>{esc(f.id)}.csv</code>).</p>'
            )
    elif not result.covered:
        stages = ", ".join(sorted(result.stages))
        out.append(
            f'<div class="warn">No enabled instance collects what this finding reads (stage {esc(stages)}), '
            "so it cannot find anything here: an empty result, not a clean one.</div>"
        )
    elif not result.affected:
        names = ", ".join(result.covered)
        out.append(f'<p class="meta">No rows, and every instance it reads is current ({esc(names)}).</p>')
    out.append("</section>")
    return "\n".join(out)


def _rows_table(table: pa.Table, max_rows: int) -> str:
    shown = table.slice(0, max_rows).to_pylist()
    rows = ["<tr>" + "".join(cell(row[name]) for name in table.column_names) + "</tr>" for row in shown]
    return _table(table.column_names, rows)


def _coverage(data: ReportData) -> str:
    out = ["<h2 id='coverage'>Coverage notes</h2>"]
    unknown = [(k, v) for k, v in sorted(data.mfa_unknown.items()) if v[0]]
    if unknown:
        rows = [
            f"<tr><td>{esc(app + '/' + inst)}</td><td class='num'>{n:,}</td><td class='num'>{total:,}</td></tr>"
            for (app, inst), (n, total) in unknown
        ]
        out.append(
            "<h3>MFA unknown</h3><p>These instances' apps do not say whether an account uses MFA, so their "
            "admins are not in “Admins without MFA” either way.</p>"
            + _table(["instance", "admins with MFA unknown", "admins"], rows)
        )
    else:
        out.append("<p>Every admin's MFA state is reported by its app.</p>")
    skipped = [(i, p) for i in data.instances for p in i.problems() if p.state == "skipped"]
    if skipped:
        rows = [f"<tr><td>{esc(i.label)}</td><td>{esc(p.stage)}</td><td>{esc(p.detail)}</td></tr>" for i, p in skipped]
        out.append("<h3>Not collected</h3>" + _table(["instance", "stage", "why"], rows))
    return "\n".join(out)
