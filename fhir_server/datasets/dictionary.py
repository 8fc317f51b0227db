"""The data dictionary of a set of ViewDefinitions: for each view, each variable with its type, codes, source and
description, as Markdown or CSV.

    entries = dictionary(views)              # [Entry(view=…, variable=…, …)], in the views' column order
    markdown(entries) / csv_text(entries)

It is read from the views themselves: a column's ``type`` and ``description``, and the ``tag``s the generated form
views carry (``questionnaire`` url|version and ``linkId`` of the source item, ``codes`` as ``code=meaning; …``,
``element`` for the columns taken from the resource itself). A view without tags still gets one line per column.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import astuple, dataclass
from typing import Any

HEADER = ("view", "variable", "type", "codes", "questionnaire", "link_id", "element", "description")


@dataclass(frozen=True)
class Entry:
    """One variable of one view."""

    view: str
    variable: str
    type: str
    codes: str
    questionnaire: str  # the source Questionnaire, url|version ('' for columns not from an item)
    link_id: str
    element: str  # the resource element a common column comes from ('' for item columns)
    description: str

    @property
    def source(self) -> str:
        if self.questionnaire:
            return f"{self.questionnaire}, linkId {self.link_id}"
        return self.element


def _columns(selects: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for select in selects:
        yield from select.get("column", [])
        yield from _columns(select.get("select", []))
        branches = select.get("unionAll", [])
        if branches:
            yield from _columns(branches[:1])  # every branch has the same columns


def _tags(column: dict[str, Any]) -> dict[str, str]:
    return {str(t.get("name")): str(t.get("value", "")) for t in column.get("tag") or () if isinstance(t, dict)}


def dictionary(views: dict[str, dict[str, Any]]) -> list[Entry]:
    """The entries of ``views`` (name -> ViewDefinition), view by view, column by column."""
    entries: list[Entry] = []
    for name, view in views.items():
        for column in _columns(view.get("select", [])):
            tags = _tags(column)
            entries.append(
                Entry(
                    view=name,
                    variable=str(column.get("name")),
                    type=str(column.get("type") or ""),
                    codes=tags.get("codes", ""),
                    questionnaire=tags.get("questionnaire", ""),
                    link_id=tags.get("linkId", ""),
                    element=tags.get("element", ""),
                    description=str(column.get("description") or ""),
                )
            )
    return entries


def csv_text(entries: list[Entry]) -> str:
    """One CSV table: a header, then one line per entry."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(astuple(entry) for entry in entries)
    return out.getvalue()


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def markdown(entries: list[Entry], views: dict[str, dict[str, Any]] | None = None) -> str:
    """One section per view (its title and description from ``views`` where given), a table of its variables."""
    lines = [
        "# Data dictionary",
        "",
        "Generated from the ViewDefinitions; do not edit. Codes are `code=meaning`; a multiple-choice item has one "
        "column per option (1 ticked, 0 not ticked, empty when the item was not answered).",
    ]
    current = None
    for entry in entries:
        if entry.view != current:
            current = entry.view
            view = (views or {}).get(current, {})
            lines += ["", f"## {current}", ""]
            if view.get("title"):
                lines += [f"**{view['title']}**", ""]
            if view.get("description"):
                lines += [str(view["description"]), ""]
            lines += ["| variable | type | codes | source | description |", "|---|---|---|---|---|"]
        cells = (f"`{entry.variable}`", entry.type, entry.codes, entry.source, entry.description)
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"
