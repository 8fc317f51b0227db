"""Numbers as a Norwegian reader writes them: decimal comma, a space before the per cent sign."""

from __future__ import annotations

from workers.reports.indicators import Share

SUPPRESSED = "N<30"
DASH = "\u2013"  # an en dash, between the ends of a range


def percent(value: float | None, decimals: int = 1) -> str:
    if value is None:
        return DASH
    return f"{100 * value:.{decimals}f}".replace(".", ",") + " %"


def interval(share: Share) -> str:
    """``(28,1-41,0 %)``; empty when the share is withheld."""
    if share.low is None or share.high is None:
        return ""
    low, high = (f"{100 * v:.1f}".replace(".", ",") for v in (share.low, share.high))
    return f"{low}{DASH}{high} %"


def share_text(share: Share) -> str:
    """``34,5 % (28,1-41,0 %)``, or ``N<30`` when withheld."""
    return SUPPRESSED if share.suppressed else f"{percent(share.share)} ({interval(share)})"


def number(value: float) -> str:
    return f"{value:g}".replace(".", ",")


def quarter_name(label: str) -> str:
    """``2026Q3`` → ``3. kvartal 2026``; a year stays as it is."""
    if "Q" in label:
        year, number = label.split("Q")
        return f"{number}. kvartal {year}"
    return label


def period_name(label: str) -> str:
    return quarter_name(label) if "Q" in label else f"året {label}"
