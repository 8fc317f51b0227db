"""The report's SVG charts: well-formed, titled and described for screen readers, withheld shares marked N<30 and
never drawn as bars or points; the histogram's bins hold every score once."""

from __future__ import annotations

from lxml import etree

from fhir_server.indicators.evaluate import Tally
from workers.reports.charts import histogram, indicator_bars, quarter_lines
from workers.reports.indicators import Indicator, Share, share_of
from workers.reports.scores import Distribution, bins

SVG = "{http://www.w3.org/2000/svg}"


def _indicator(unit: Share, rest: Share) -> Indicator:
    quarters = [(f"2026Q{n}", unit if n % 2 else share_of(Tally(5, 1), 30), rest) for n in range(1, 5)]
    return Indicator("odi-improved", "url", "Bedre funksjon", True, 0.3, 0.25, unit, rest, rest, quarters)


def _parsed(svg: str) -> etree._Element:
    root = etree.fromstring(svg.encode("utf-8"))
    assert root.tag == SVG + "svg" and root.get("role") == "img"
    title, description = root.find(SVG + "title"), root.find(SVG + "desc")
    assert title is not None and title.text and description is not None and description.text
    assert root.get("aria-labelledby") == f"{title.get('id')} {description.get('id')}"
    return root


def test_bars_mark_a_withheld_share_and_draw_the_levels():
    shown, withheld = share_of(Tally(100, 42), 30), share_of(Tally(12, 3), 30)
    root = _parsed(indicator_bars(_indicator(withheld, shown), "Enhet A", "t1"))
    texts = [t.text for t in root.iter(SVG + "text")]
    assert "N<30 (N=12)" in texts and "42,0 % (N=100)" in texts
    assert "Mål 30 %" in texts and "Minimum 25 %" in texts
    assert "Enhet A: N<30." in root.find(SVG + "desc").text


def test_lines_leave_withheld_quarters_out():
    shown = share_of(Tally(50, 25), 30)
    root = _parsed(quarter_lines(_indicator(shown, shown), "Enhet A", "t2"))
    assert len(list(root.iter(SVG + "circle"))) == 1 + 2  # the legend's and quarters 1 and 3 (2 and 4 withheld)


def test_histogram_bins_hold_every_score_once():
    odi = Distribution("ODI", 0, 100, 10, [0, 9.9, 10, 55, 100], [100, 100, 0, 20, 30])
    rows = bins(odi)
    assert len(rows) == 10 and rows[0][0] == "0\u201310" and rows[-1][0] == "90\u2013100"
    assert sum(b for _, b, _ in rows) == 5 and sum(a for _, _, a in rows) == 5
    assert rows[-1][1:] == (1, 2)  # 100 is in the last bin
    nrs = bins(Distribution("NRS", 0, 10, 1, [0, 10], [5]))
    assert [label for label, _, _ in nrs] == [str(n) for n in range(11)]
    _parsed(histogram(odi, "t3"))
