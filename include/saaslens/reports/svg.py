"""Charts as inline SVG, drawn here so the report needs no script, no font and no network.

Every text that comes from data goes through `esc`, and every chart is an <svg role="img"> with
an aria-label and <title> tooltips, so it reads in a browser, a mail client and a screen reader.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from datetime import date, datetime

PALETTE = (
    "#2563eb",
    "#f97316",
    "#16a34a",
    "#dc2626",
    "#9333ea",
    "#0891b2",
    "#ca8a04",
    "#db2777",
    "#4b5563",
    "#65a30d",
)
STATUS_COLOURS = {
    "active": "#16a34a",
    "pending": "#0891b2",
    "locked": "#ca8a04",
    "suspended": "#f97316",
    "deprovisioned": "#6b7280",
    "public": "#dc2626",
    "external": "#f97316",
    "internal": "#2563eb",
    "private": "#16a34a",
}
FONT = "font-family:system-ui,sans-serif;font-size:12px"
GREY = 'fill="#6b7280"'


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def colour_for(name: str, index: int) -> str:
    return STATUS_COLOURS.get(name, PALETTE[index % len(PALETTE)])


def _open(width: int, height: int, label: str) -> str:
    return (
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{esc(label)}" style="{FONT}">'
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>'
    )


def empty_chart(label: str, message: str, width: int = 720) -> str:
    return (
        _open(width, 60, label)
        + f'<text x="{width // 2}" y="34" text-anchor="middle" fill="#6b7280">{esc(message)}</text></svg>'
    )


def _legend(names: Sequence[str], colours: Mapping[str, str], x: int, y: int, width: int) -> tuple[str, int]:
    """A wrapping legend; returns the SVG and the height it took."""
    parts, cx, cy = [], x, y
    for name in names:
        item = 18 + 7 * len(name) + 16
        if cx + item > x + width and cx > x:
            cx, cy = x, cy + 18
        parts.append(
            f'<rect x="{cx}" y="{cy}" width="12" height="12" fill="{colours[name]}"/>'
            f'<text x="{cx + 16}" y="{cy + 10}">{esc(name)}</text>'
        )
        cx += item
    return "".join(parts), cy - y + 18


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1
    magnitude: int = 10 ** (len(str(int(value))) - 1)  # a non-negative power: an int
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def stacked_bars(
    label: str,
    rows: Sequence[str],
    series: Sequence[str],
    values: Mapping[tuple[str, str], float],
    width: int = 720,
    empty: str = "no data",
) -> str:
    """Horizontal bars, one per row, stacked by series (e.g. accounts per instance by status)."""
    if not rows or not any(values.values()):
        return empty_chart(label, empty)
    colours = {name: colour_for(name, i) for i, name in enumerate(series)}
    label_width = min(220, 12 + 7 * max(len(r) for r in rows))
    bar_area = width - label_width - 70
    totals = {row: sum(values.get((row, s), 0) for s in series) for row in rows}
    top = _nice_max(max(totals.values()))
    legend, legend_height = _legend(list(series), colours, label_width, 8, bar_area)
    y0 = 8 + legend_height + 6
    height = y0 + 24 * len(rows) + 24
    out = [_open(width, height, label), legend]
    for i, row in enumerate(rows):
        y = y0 + 24 * i
        out.append(f'<text x="{label_width - 6}" y="{y + 14}" text-anchor="end">{esc(row)}</text>')
        x = float(label_width)
        for name in series:
            value = values.get((row, name), 0)
            if not value:
                continue
            w = bar_area * value / top
            out.append(
                f'<rect class="bar" x="{x:.1f}" y="{y + 3}" width="{max(w, 1):.1f}" height="16" '
                f'fill="{colours[name]}"><title>{esc(row)}: {esc(name)} {value:,.0f}</title></rect>'
            )
            x += w
        out.append(f'<text x="{x + 4:.1f}" y="{y + 14}" fill="#374151">{totals[row]:,.0f}</text>')
    axis_y = y0 + 24 * len(rows) + 4
    out.append(f'<line x1="{label_width}" y1="{axis_y}" x2="{label_width + bar_area}" y2="{axis_y}" stroke="#9ca3af"/>')
    for fraction in (0, 0.5, 1):
        x = label_width + bar_area * fraction
        out.append(f'<text x="{x:.1f}" y="{axis_y + 14}" text-anchor="middle" {GREY}>{top * fraction:,.0f}</text>')
    out.append("</svg>")
    return "".join(out)


def day_bars(
    label: str, days: Sequence[date], series: Sequence[str], values: Mapping[tuple[date, str], float], width: int = 720
) -> str:
    """Vertical bars per day, stacked by series (e.g. failed sign-ins per day by app)."""
    if not days or not any(values.values()):
        return empty_chart(label, "no data in the period")
    colours = {name: colour_for(name, i) for i, name in enumerate(series)}
    left, plot_height = 56, 180
    plot_width = width - left - 12
    legend, legend_height = _legend(list(series), colours, left, 8, plot_width)
    y0 = 8 + legend_height + 8
    height = y0 + plot_height + 40
    totals = {d: sum(values.get((d, s), 0) for s in series) for d in days}
    top = _nice_max(max(totals.values()))
    slot = plot_width / len(days)
    out = [_open(width, height, label), legend]
    base = y0 + plot_height
    for fraction in (0, 0.5, 1):
        y = base - plot_height * fraction
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_width}" y2="{y:.1f}" stroke="#e5e7eb"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" {GREY}>{top * fraction:,.0f}</text>')
    for i, day in enumerate(days):
        x = left + slot * i + slot * 0.1
        y = float(base)
        for name in series:
            value = values.get((day, name), 0)
            if not value:
                continue
            h = plot_height * value / top
            y -= h
            out.append(
                f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{slot * 0.8:.1f}" height="{max(h, 1):.1f}" '
                f'fill="{colours[name]}"><title>{day.isoformat()} {esc(name)}: {value:,.0f}</title></rect>'
            )
        if len(days) <= 12 or i % max(1, len(days) // 8) == 0 or i == len(days) - 1:
            out.append(
                f'<text x="{x + slot * 0.4:.1f}" y="{base + 16}" text-anchor="middle" fill="#6b7280">{day:%m-%d}</text>'
            )
    out.append("</svg>")
    return "".join(out)


def line_chart(label: str, series: Mapping[str, Sequence[tuple[datetime, float]]], width: int = 720) -> str:
    """Lines over time, one per series (e.g. admins per instance across snapshots); points marked."""
    points = [p for values in series.values() for p in values]
    if not points:
        return empty_chart(label, "no snapshots")
    names = list(series)
    colours = {name: colour_for(name, i) for i, name in enumerate(names)}
    left, plot_height = 56, 180
    plot_width = width - left - 24
    legend, legend_height = _legend(names, colours, left, 8, plot_width)
    y0 = 8 + legend_height + 8
    height = y0 + plot_height + 40
    start = min(t for t, _ in points)
    end = max(t for t, _ in points)
    span = (end - start).total_seconds() or 1.0
    top = _nice_max(max(v for _, v in points))
    base = y0 + plot_height

    def xy(moment: datetime, value: float) -> tuple[float, float]:
        x = left + plot_width * ((moment - start).total_seconds() / span if end > start else 0.5)
        return x, base - plot_height * value / top

    out = [_open(width, height, label), legend]
    for fraction in (0, 0.5, 1):
        y = base - plot_height * fraction
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_width}" y2="{y:.1f}" stroke="#e5e7eb"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" {GREY}>{top * fraction:,.0f}</text>')
    for name in names:
        coords = [xy(t, v) for t, v in sorted(series[name])]
        if len(coords) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
            out.append(f'<polyline points="{path}" fill="none" stroke="{colours[name]}" stroke-width="2"/>')
        for (moment, value), (x, y) in zip(sorted(series[name]), coords, strict=True):
            out.append(
                f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colours[name]}">'
                f"<title>{esc(name)} {moment:%Y-%m-%d %H:%M} UTC: {value:,.0f}</title></circle>"
            )
    out.append(f'<text x="{left}" y="{base + 16}" fill="#6b7280">{start:%Y-%m-%d %H:%M}</text>')
    if end > start:
        right = left + plot_width
        out.append(f'<text x="{right}" y="{base + 16}" text-anchor="end" {GREY}>{end:%Y-%m-%d %H:%M}</text>')
    out.append("</svg>")
    return "".join(out)
