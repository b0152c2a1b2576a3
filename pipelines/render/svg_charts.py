"""Inline SVG charts for the Chinese reports: a five-dimension radar and bar charts.

Why SVG strings and not a plotting library: the reports must open offline and print sharply
(no CDN, no images to ship beside the HTML), and the venv has no matplotlib. Each function
returns one ``<svg>`` element with its numbers also in ``<title>`` tooltips, so a reader who
prefers figures hovers, and a screen reader reads them. Text is escaped; sizes are in user
units with a viewBox, so the browser scales them for screen and paper alike.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from markupsafe import Markup

FONT = 'font-family="Microsoft YaHei, PingFang SC, Noto Sans CJK SC, SimSun, sans-serif"'
SCORE_COLOUR = "#1f5fa8"
THRESHOLD_COLOUR = "#c00000"
PALETTE = ("#1f5fa8", "#e07b00", "#2e8b57", "#c00000", "#7b4fa0", "#8c564b", "#555555")


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def radar(labels: Sequence[str], scores: Sequence[float | None],
          thresholds: Sequence[float | None], *, size: int = 220, maximum: float = 100,
          title: str = "") -> Markup:
    """Scores (blue polygon) against thresholds (red dashed polygon) on one axis per label.

    A missing score is drawn at 0 and says so in its tooltip; rings at 20-point steps."""
    n = len(labels)
    cx = cy = size / 2
    radius = size / 2 - 34

    def point(i: int, value: float) -> tuple[float, float]:
        angle = -math.pi / 2 + 2 * math.pi * i / n
        r = radius * max(0.0, min(value, maximum)) / maximum
        return cx + r * math.cos(angle), cy + r * math.sin(angle)

    def polygon(values: Sequence[float | None]) -> str:
        return " ".join(f"{x:.1f},{y:.1f}" for x, y in
                        (point(i, v or 0.0) for i, v in enumerate(values)))

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
             f'width="{size}" height="{size}" role="img" class="chart radar" {FONT}>']
    if title:
        parts.append(f"<title>{escape(title)}</title>")
    for step in range(1, 6):
        ring = [maximum * step / 5] * n
        parts.append(f'<polygon points="{polygon(ring)}" fill="none" stroke="#ddd" '
                     'stroke-width="1"/>')
    for i, label in enumerate(labels):
        x, y = point(i, maximum)
        parts.append(f'<line x1="{cx}" y1="{cy}" x2="{x:.1f}" y2="{y:.1f}" stroke="#ccc"/>')
        lx, ly = point(i, maximum * 1.18)
        parts.append(f'<text x="{lx:.1f}" y="{ly + 4:.1f}" font-size="12" '
                     f'text-anchor="middle">{escape(label)}</text>')
    if any(t is not None for t in thresholds):
        parts.append(f'<polygon points="{polygon(thresholds)}" fill="none" '
                     f'stroke="{THRESHOLD_COLOUR}" stroke-width="1.5" stroke-dasharray="4 3">'
                     "<title>岗位类别阈值</title></polygon>")
    parts.append(f'<polygon points="{polygon(scores)}" fill="{SCORE_COLOUR}" fill-opacity="0.18" '
                 f'stroke="{SCORE_COLOUR}" stroke-width="2"/>')
    for i, (label, score, threshold) in enumerate(zip(labels, scores, thresholds, strict=True)):
        x, y = point(i, score or 0.0)
        low = score is not None and threshold is not None and score < threshold
        colour = THRESHOLD_COLOUR if low else SCORE_COLOUR
        tip = f"{label}：{'无' if score is None else _num(score)}" + \
            ("" if threshold is None else f"（阈值 {_num(threshold)}）")
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}">'
                     f"<title>{escape(tip)}</title></circle>")
    parts.append("</svg>")
    return Markup("".join(parts))


def bars(labels: Sequence[str], values: Sequence[float], *, threshold: float | None = None,
         width: int = 420, bar_height: int = 20, unit: str = "", title: str = "",
         highlight: Sequence[bool] | None = None) -> Markup:
    """Horizontal bars with the value at each bar's end; an optional dashed threshold line."""
    label_width = min(200, 14 + 13 * max((len(s) for s in labels), default=2))
    top = 6
    height = top + len(labels) * (bar_height + 6) + 8
    plot = width - label_width - 50
    top_value = max([*values, threshold or 0, 1e-9])
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" role="img" class="chart bars" {FONT}>']
    if title:
        parts.append(f"<title>{escape(title)}</title>")
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = top + i * (bar_height + 6)
        length = plot * value / top_value
        hot = bool(highlight[i]) if highlight is not None else False
        colour = THRESHOLD_COLOUR if hot else SCORE_COLOUR
        parts.append(f'<text x="{label_width - 6}" y="{y + bar_height * 0.72:.1f}" '
                     f'font-size="12" text-anchor="end">{escape(label)}</text>')
        parts.append(f'<rect x="{label_width}" y="{y}" width="{length:.1f}" '
                     f'height="{bar_height}" fill="{colour}">'
                     f"<title>{escape(label)}：{_num(value)}{escape(unit)}</title></rect>")
        parts.append(f'<text x="{label_width + length + 4:.1f}" y="{y + bar_height * 0.72:.1f}" '
                     f'font-size="11">{_num(value)}{escape(unit)}</text>')
    if threshold is not None:
        x = label_width + plot * threshold / top_value
        parts.append(f'<line x1="{x:.1f}" y1="2" x2="{x:.1f}" y2="{height - 4}" '
                     f'stroke="{THRESHOLD_COLOUR}" stroke-dasharray="4 3">'
                     f"<title>阈值 {_num(threshold)}{escape(unit)}</title></line>")
    parts.append("</svg>")
    return Markup("".join(parts))


def stacked_bars(labels: Sequence[str], series: Sequence[tuple[str, Sequence[int]]], *,
                 width: int = 560, bar_height: int = 18, title: str = "",
                 colours: Sequence[str] | None = None) -> Markup:
    """One horizontal bar per label made of coloured segments (e.g. flags per state), with a
    legend; each segment's count is in its tooltip and, when wide enough, written on it.
    ``colours``: one per series (a state keeps its colour whichever states are present)."""
    palette = tuple(colours) if colours else PALETTE
    label_width = min(220, 14 + 13 * max((len(s) for s in labels), default=2))
    legend_height = 22
    height = legend_height + len(labels) * (bar_height + 6) + 8
    totals = [sum(s[1][i] for s in series) for i in range(len(labels))]
    plot = width - label_width - 40
    top_value = max([*totals, 1])
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" role="img" class="chart stacked" {FONT}>']
    if title:
        parts.append(f"<title>{escape(title)}</title>")
    x = 4.0
    for k, (name, _) in enumerate(series):
        colour = palette[k % len(palette)]
        parts.append(f'<rect x="{x:.1f}" y="4" width="12" height="12" fill="{colour}"/>'
                     f'<text x="{x + 16:.1f}" y="14" font-size="11">{escape(name)}</text>')
        x += 28 + 12 * len(name)
    for i, label in enumerate(labels):
        y = legend_height + i * (bar_height + 6)
        parts.append(f'<text x="{label_width - 6}" y="{y + bar_height * 0.72:.1f}" '
                     f'font-size="12" text-anchor="end">{escape(label)}</text>')
        start = float(label_width)
        for k, (name, counts) in enumerate(series):
            if not counts[i]:
                continue
            length = plot * counts[i] / top_value
            colour = palette[k % len(palette)]
            parts.append(f'<rect x="{start:.1f}" y="{y}" width="{length:.1f}" '
                         f'height="{bar_height}" fill="{colour}">'
                         f"<title>{escape(label)} {escape(name)}：{counts[i]}</title></rect>")
            if length > 14:
                parts.append(f'<text x="{start + length / 2:.1f}" y="{y + bar_height * 0.72:.1f}"'
                             f' font-size="10" fill="#fff" text-anchor="middle">{counts[i]}</text>')
            start += length
        parts.append(f'<text x="{start + 4:.1f}" y="{y + bar_height * 0.72:.1f}" '
                     f'font-size="11">{totals[i]}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def lines(x_labels: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]], *,
          width: int = 560, height: int = 220, unit: str = "", title: str = "",
          threshold: float | None = None) -> Markup:
    """One line per series over the x labels (e.g. periods), with a legend below; a missing
    value breaks the line. Each point's value is in its tooltip."""
    left, right, top, bottom = 44, 16, 10, 30
    legend_rows = (len(series) + 1) // 2
    total_height = height + 16 * legend_rows
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for _, vs in series for v in vs if v is not None]
    top_value = max([*values, threshold or 0, 1e-9]) * 1.1
    step = plot_w / max(1, len(x_labels) - 1)

    def xy(i: int, value: float) -> tuple[float, float]:
        x = left + (step * i if len(x_labels) > 1 else plot_w / 2)
        return x, top + plot_h - plot_h * value / top_value

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {total_height}" '
             f'width="{width}" height="{total_height}" role="img" class="chart lines" {FONT}>']
    if title:
        parts.append(f"<title>{escape(title)}</title>")
    parts.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" '
                 f'y2="{top + plot_h}" stroke="#999"/>')
    for k in range(0, 5):
        value = top_value * k / 4
        _, y = xy(0, value)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" '
                     f'stroke="#eee"/><text x="{left - 4}" y="{y + 4:.1f}" font-size="10" '
                     f'text-anchor="end">{_num(value)}{escape(unit)}</text>')
    for i, label in enumerate(x_labels):
        x, _ = xy(i, 0)
        parts.append(f'<text x="{x:.1f}" y="{top + plot_h + 16}" font-size="11" '
                     f'text-anchor="middle">{escape(label)}</text>')
    if threshold is not None:
        _, y = xy(0, threshold)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" '
                     f'stroke="{THRESHOLD_COLOUR}" stroke-dasharray="4 3"/>')
    for k, (name, vs) in enumerate(series):
        colour = PALETTE[k % len(PALETTE)]
        run: list[str] = []
        for i, value in enumerate([*vs, None]):
            if value is None:
                if len(run) > 1:
                    parts.append(f'<polyline points="{" ".join(run)}" fill="none" '
                                 f'stroke="{colour}" stroke-width="2"/>')
                run = []
                continue
            x, y = xy(i, value)
            run.append(f"{x:.1f},{y:.1f}")
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}">'
                         f"<title>{escape(name)} {escape(x_labels[i])}：{_num(value)}"
                         f"{escape(unit)}</title></circle>")
        lx = 8 + (k % 2) * (width // 2)
        ly = height + 16 * (k // 2)
        parts.append(f'<rect x="{lx}" y="{ly - 9}" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{lx + 14}" y="{ly}" font-size="11">{escape(name)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
