"""The report's charts as inline SVG, written here as plain SVG text rather than with a plotting library.

Why plain SVG: the charts are three simple kinds (a horizontal bar with whiskers, lines over eight quarters, a
histogram), and writing them directly keeps the output small, deterministic and accessible — each chart is an
``<svg role="img">`` with a ``<title>`` and ``<desc>`` and text a screen reader and WeasyPrint both handle — with no
large dependency (matplotlib brings numpy, fonts and a font cache) for a few rectangles and lines. Every chart has a
table beside it in the report holding the same numbers.

Colours: the unit dark blue, the rest of the country grey (and dashed/square-marked in line charts, so the two differ
without colour too); the target line green, the minimum line orange, both labelled.
"""

from __future__ import annotations

from html import escape

from workers.reports.formatting import SUPPRESSED, percent, share_text
from workers.reports.indicators import Indicator, Share
from workers.reports.scores import Distribution, bins

UNIT_COLOUR = "#1f4e79"
REST_COLOUR = "#8a8a8a"
TARGET_COLOUR = "#2e7d32"
MINIMUM_COLOUR = "#d35400"
AFTER_COLOUR = "#c77c02"  # the histogram's scores at 6 months
GRID_COLOUR = "#d9d9d9"
FONT = 'font-family="DejaVu Sans, Arial, sans-serif"'


def _svg(width: int, height: int, title: str, description: str, body: list[str], ident: str) -> str:
    return "\n".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}" aria-labelledby="{ident}-t {ident}-d" {FONT} font-size="12">',
            f'<title id="{ident}-t">{escape(title)}</title>',
            f'<desc id="{ident}-d">{escape(description)}</desc>',
            *body,
            "</svg>",
        ]
    )


def _text(x: float, y: float, content: str, **attributes: str | float) -> str:
    extra = " ".join(f'{name.replace("_", "-")}="{value}"' for name, value in attributes.items())
    return f'<text x="{x:.1f}" y="{y:.1f}" {extra}>{escape(content)}</text>'


def _line(x1: float, y1: float, x2: float, y2: float, colour: str, width: float = 1, dash: str = "") -> str:
    dashed = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{colour}" '
        f'stroke-width="{width}"{dashed}/>'
    )


def _levels(indicator: Indicator) -> list[tuple[float, str, str]]:
    levels = []
    if indicator.target is not None:
        levels.append((indicator.target, TARGET_COLOUR, f"Mål {percent(indicator.target, 0)}"))
    if indicator.minimum is not None:
        levels.append((indicator.minimum, MINIMUM_COLOUR, f"Minimum {percent(indicator.minimum, 0)}"))
    return levels


def _short(name: str, most: int = 30) -> str:
    """A label that fits the chart's label column (the full name is in the chart's title and table)."""
    return name if len(name) <= most else name[: most - 1].rstrip() + "\u2026"


def indicator_bars(indicator: Indicator, unit_name: str, ident: str) -> str:
    """Two horizontal bars, the unit and the rest of the country, with 95 % whiskers and the target and minimum
    lines; a withheld share (N<30) is a hatched placeholder saying so."""
    width, left, right, top = 680, 200, 540, 26
    scale = right - left
    rows = [(_short(unit_name), indicator.unit, UNIT_COLOUR), ("Resten av landet", indicator.rest, REST_COLOUR)]
    height = top + 34 * len(rows) + 24
    bottom = top + 34 * len(rows)
    body = [
        f'<defs><pattern id="{ident}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#f2f2f2"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#b0b0b0" stroke-width="2"/></pattern></defs>'
    ]
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        x = left + tick * scale
        body.append(_line(x, top - 4, x, bottom, GRID_COLOUR))
        body.append(_text(x, bottom + 16, percent(tick, 0), text_anchor="middle", fill="#555"))
    for n, (label, share, colour) in enumerate(rows):
        y = top + 34 * n + 6
        body.append(_text(left - 8, y + 14, label, text_anchor="end", font_weight="bold" if n == 0 else "normal"))
        if share.suppressed:
            body.append(
                f'<rect x="{left}" y="{y}" width="{scale * 0.18:.1f}" height="20" fill="url(#{ident}-hatch)" '
                f'stroke="#b0b0b0"/>'
            )
            body.append(_text(left + scale * 0.18 + 6, y + 14, f"{SUPPRESSED} (N={share.denominator})", fill="#555"))
            continue
        value = share.share or 0.0
        body.append(f'<rect x="{left}" y="{y}" width="{value * scale:.1f}" height="20" fill="{colour}"/>')
        low, high = left + (share.low or 0) * scale, left + (share.high or 0) * scale
        body.append(_line(low, y + 10, high, y + 10, "#222", 1.5))
        body.append(_line(low, y + 4, low, y + 16, "#222", 1.5))
        body.append(_line(high, y + 4, high, y + 16, "#222", 1.5))
        body.append(_text(max(high, left + value * scale) + 6, y + 14, f"{percent(value)} (N={share.denominator})"))
    for level, colour, label in _levels(indicator):
        x = left + level * scale
        body.append(_line(x, top - 6, x, bottom, colour, 2, "5 3"))
        anchor = "start" if label.startswith("Mål") else "end"
        body.append(_text(x + (3 if anchor == "start" else -3), top - 10, label, fill=colour, text_anchor=anchor))
    description = (
        f"{unit_name}: {share_text(indicator.unit)}. Resten av landet: {share_text(indicator.rest)}. "
        + " ".join(f"{label}." for _, _, label in _levels(indicator))
    )
    return _svg(width, height, f"{indicator.title}: enheten mot resten av landet", description, body, ident)


def quarter_lines(indicator: Indicator, unit_name: str, ident: str) -> str:
    """The unit's and the rest's share by quarter; a withheld quarter (N<30) is a gap in the line."""
    width, height, left, right, top, bottom = 640, 190, 56, 620, 30, 140
    quarters = indicator.quarters
    step = (right - left) / max(1, len(quarters) - 1)

    def y_of(value: float) -> float:
        return bottom - value * (bottom - top)

    body = []
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        body.append(_line(left, y_of(tick), right, y_of(tick), GRID_COLOUR))
        body.append(_text(left - 6, y_of(tick) + 4, percent(tick, 0), text_anchor="end", fill="#555"))
    for level, colour, label in _levels(indicator):
        body.append(_line(left, y_of(level), right, y_of(level), colour, 1.5, "5 3"))
        body.append(_text(right, y_of(level) - 4, label, fill=colour, text_anchor="end", font_size=11))
    for n, (label, _, _) in enumerate(quarters):
        year, number = label.split("Q")
        x = left + n * step
        body.append(_text(x, bottom + 16, f"K{number}", text_anchor="middle", fill="#555"))
        body.append(_text(x, bottom + 30, year, text_anchor="middle", fill="#555", font_size=10))
    for index, (colour, dash, square) in enumerate(((UNIT_COLOUR, "", False), (REST_COLOUR, "6 4", True))):
        segments: list[list[tuple[float, float]]] = [[]]
        for n, quarter in enumerate(quarters):
            share: Share = quarter[1 + index]
            if share.suppressed:
                segments.append([])
                continue
            segments[-1].append((left + n * step, y_of(share.share or 0.0)))
        for segment in segments:
            if len(segment) > 1:
                points = " ".join(f"{x:.1f},{y:.1f}" for x, y in segment)
                dashed = f' stroke-dasharray="{dash}"' if dash else ""
                body.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2.5"{dashed}/>')
            for x, y in segment:
                if square:
                    body.append(f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" fill="{colour}"/>')
                else:
                    body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4.5" fill="{colour}"/>')
    body.append(f'<circle cx="{left + 8}" cy="12" r="4.5" fill="{UNIT_COLOUR}"/>')
    body.append(_text(left + 18, 16, _short(unit_name)))
    body.append(f'<rect x="{left + 238}" y="8" width="8" height="8" fill="{REST_COLOUR}"/>')
    body.append(_text(left + 252, 16, "Resten av landet"))
    note = f"Kvartaler med {SUPPRESSED} vises ikke"
    body.append(_text(right, 16, note, text_anchor="end", fill="#555", font_size=10))
    shown = "; ".join(
        f"{label}: {unit_name} {share_text(own)}, resten av landet {share_text(rest)}" for label, own, rest in quarters
    )
    return _svg(width, height, f"{indicator.title} per kvartal", shown, body, ident)


def histogram(distribution: Distribution, ident: str) -> str:
    """The share of the unit's episodes in each score bin, before (blue) and at 6 months (amber), side by side,
    each as a share of its own N."""
    width, height, left, right, top, bottom = 640, 230, 56, 620, 30, 180
    rows = bins(distribution)
    total_before, total_after = max(1, len(distribution.before)), max(1, len(distribution.after))
    shares = [(label, b / total_before, a / total_after) for label, b, a in rows]
    peak = max([0.1, *(max(b, a) for _, b, a in shares)])
    ceiling = min(1.0, (int(peak * 10) + 1) / 10)
    slot = (right - left) / len(shares)
    bar = slot * 0.38

    def y_of(value: float) -> float:
        return bottom - value / ceiling * (bottom - top)

    body = []
    step = 0.05 if ceiling <= 0.3 else 0.1
    ticks = [i * step for i in range(round(ceiling / step) + 1)]
    for tick in ticks:
        body.append(_line(left, y_of(tick), right, y_of(tick), GRID_COLOUR))
        body.append(_text(left - 6, y_of(tick) + 4, percent(tick, 0), text_anchor="end", fill="#555"))
    for n, (label, before, after) in enumerate(shares):
        x = left + n * slot + slot * 0.1
        body.append(
            f'<rect x="{x:.1f}" y="{y_of(before):.1f}" width="{bar:.1f}" height="{bottom - y_of(before):.1f}" '
            f'fill="{UNIT_COLOUR}"/>'
        )
        body.append(
            f'<rect x="{x + bar:.1f}" y="{y_of(after):.1f}" width="{bar:.1f}" height="{bottom - y_of(after):.1f}" '
            f'fill="{AFTER_COLOUR}"/>'
        )
        body.append(_text(left + (n + 0.5) * slot, bottom + 16, label, text_anchor="middle", fill="#555", font_size=10))
    body.append(f'<rect x="{left + 4}" y="8" width="10" height="10" fill="{UNIT_COLOUR}"/>')
    body.append(_text(left + 20, 17, f"Før konsultasjon (N={len(distribution.before)})"))
    body.append(f'<rect x="{left + 244}" y="8" width="10" height="10" fill="{AFTER_COLOUR}"/>')
    body.append(_text(left + 260, 17, f"Etter 6 måneder (N={len(distribution.after)})"))
    description = "; ".join(f"{label}: før {b}, etter 6 måneder {a}" for label, b, a in rows)
    return _svg(width, height, f"Fordeling av {distribution.title}", description, body, ident)
