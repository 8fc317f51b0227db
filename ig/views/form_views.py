"""One SQL-on-FHIR v2 ViewDefinition per registry form, generated from its Questionnaire: the flat dataset a registry
statistician works with, one row per completed QuestionnaireResponse.

    view = form_view(questionnaire)          # the ViewDefinition (a dict), named form_<questionnaire name>

Every view starts with the same columns — ``response``, ``patient``, ``episode`` (keys ``Type/id`` from
``getResourceKey()``/``getReferenceKey()``, so rows join each other and the registry's other views), ``status``,
``authored`` and ``form_version`` — followed by one column per answer item, in the form's order. The conventions:

- a column's name is the item's instrument code (``https://ryggrad.no/fhir/CodeSystem/instrument``) where it has
  one, else its ``linkId``, in lower_snake_case (``pain-nrs-rest`` → ``pain_nrs_rest``, ``odi-1`` → ``odi_1``);
- a single-choice item gives its answer's code; where every option's code is a whole number (the scales, 0-10 …)
  the column is an integer;
- a multiple-choice item gives one column per option, ``<item>_<code>``: 1 ticked, 0 not ticked (the item answered
  otherwise), empty when the item was not answered at all;
- integer, decimal, boolean, date and dateTime items give their value; a quantity item (a renderer's section sum)
  its number;
- free text is left out (``string``/``text`` items, open-choice's typed text, attachments); a string item whose
  answer is held to a pattern (the ICD-10 code) is a code, and kept;
- a repeating group gives ``<group>_n`` (how many were answered) and its items for the first ``REPEATS``
  occurrences, ``<group>_<i>_<item>``.

Each item column carries ``tag``s naming its source (``questionnaire``: url|version, ``linkId``) and its codes
(``codes``: ``code=meaning; …``); the data dictionary (``fhir_server.datasets.dictionary``) is read from them.
"""

from __future__ import annotations

import re
from typing import Any

from fhir_server.datasets.source import SEARCH  # search parameters narrowing what a view is run over

INSTRUMENT = "https://ryggrad.no/fhir/CodeSystem/instrument"
EPISODE = "https://ryggrad.no/fhir/StructureDefinition/episode"
REGEX = "http://hl7.org/fhir/StructureDefinition/regex"
VIEW_CANONICAL = "https://ryggrad.no/fhir/ViewDefinition/"
PREFIX = "form_"
REPEATS = 3  # occurrences of a repeating group given columns (the count column tells when there were more)
KEPT_STATUSES = ("completed", "amended")
TICKED = "1=ticked; 0=not ticked"

_VALUE_TYPES = {  # item type -> (FHIRPath type of the answer, column type)
    "integer": ("integer", "integer"),
    "decimal": ("decimal", "decimal"),
    "boolean": ("boolean", "boolean"),
    "date": ("date", "date"),
    "dateTime": ("dateTime", "dateTime"),
    "time": ("time", "time"),
}
LEFT_OUT = frozenset({"text", "attachment", "reference", "url", "display", "group"})


class FormViewError(ValueError):
    """A Questionnaire the generator cannot flatten (clashing names, a repeating group inside another)."""


def snake(text: str) -> str:
    """``pain-nrs-rest`` → ``pain_nrs_rest``; a name never starts with a digit (``1-3`` → ``v1_3``)."""
    name = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    return f"v{name}" if not name or name[0].isdigit() else name


def _part(code: str) -> str:
    """An option code as the end of a column name (``social-worker`` → ``social_worker``, ``1-3`` → ``1_3``)."""
    return re.sub(r"[^a-z0-9]+", "_", code.lower()).strip("_") or "blank"


def variable(item: dict[str, Any]) -> str:
    """The item's variable name: its instrument code if it has one, else its linkId."""
    code = next((c["code"] for c in item.get("code") or () if c.get("system") == INSTRUMENT and c.get("code")), None)
    return snake(code or item["linkId"])


def _quoted(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _options(item: dict[str, Any]) -> list[tuple[str, str]]:
    """(code, meaning) of each coded answer option."""
    found = []
    for option in item.get("answerOption") or ():
        coding = option.get("valueCoding")
        if isinstance(coding, dict) and coding.get("code"):
            found.append((str(coding["code"]), str(coding.get("display") or coding["code"])))
    return found


def _codes(options: list[tuple[str, str]]) -> str:
    return "; ".join(f"{code}={meaning.replace(';', ',')}" for code, meaning in options)


def _is_coded_string(item: dict[str, Any]) -> bool:
    return item.get("type") == "string" and any(e.get("url") == REGEX for e in item.get("extension") or ())


class _Columns:
    """The answer columns of one form, collected in order, names checked unique."""

    def __init__(self, questionnaire: dict[str, Any]) -> None:
        self.source = f"{questionnaire['url']}|{questionnaire['version']}"
        self.columns: list[dict[str, Any]] = []
        self.names: set[str] = set()

    def add(self, name: str, path: str, kind: str, description: str, link_id: str, codes: str = "") -> None:
        if name in self.names:
            raise FormViewError(f"{self.source}: two columns named {name!r} (linkId {link_id!r})")
        self.names.add(name)
        tags = [{"name": "questionnaire", "value": self.source}, {"name": "linkId", "value": link_id}]
        if codes:
            tags.append({"name": "codes", "value": codes})
        self.columns.append({"name": name, "path": path, "type": kind, "description": description, "tag": tags})

    def items(self, items: list[dict[str, Any]], scope: str = "", prefix: str = "", nested: bool = False) -> None:
        """Columns for ``items`` (and the items of their groups); ``scope``: the FHIRPath of the repeating group
        occurrence they sit in ('' at the top), ``prefix``: its name part."""
        for item in items:
            if item.get("type") == "group" and item.get("repeats"):
                if nested:
                    raise FormViewError(f"{self.source}: repeating group {item['linkId']!r} inside another")
                self.repeating_group(item, scope)
            elif item.get("type") == "group":
                self.items(item.get("item") or [], scope, prefix, nested)
            else:
                self.answer(item, scope, prefix)
                self.items(item.get("item") or [], scope, prefix, nested)  # items under a question

    def repeating_group(self, group: dict[str, Any], scope: str) -> None:
        link = group["linkId"]
        occurrences = f"{scope}repeat(item).where(linkId = {_quoted(link)})"
        name = variable(group)
        text = group.get("text") or link
        self.add(f"{name}_n", f"{occurrences}.count()", "integer", f"{text}: how many were given", link)
        for n in range(1, REPEATS + 1):
            self.items(group.get("item") or [], f"{occurrences}[{n - 1}].", f"{name}_{n}_", nested=True)

    def answer(self, item: dict[str, Any], scope: str, prefix: str) -> None:
        kind, link = item.get("type"), item["linkId"]
        name = prefix + variable(item)
        text = item.get("text") or link
        answers = f"{scope}repeat(item).where(linkId = {_quoted(link)}).answer"
        if kind in ("choice", "open-choice"):
            options = _options(item)
            if item.get("repeats"):
                for code, meaning in options:
                    ticked = f"{answers}.value.ofType(Coding).where(code = {_quoted(code)}).exists()"
                    path = f"iif({answers}.exists(), iif({ticked}, 1, 0), {{}})"
                    self.add(f"{name}_{_part(code)}", path, "integer", f"{text}: {meaning}", link, TICKED)
                return
            code_path = f"{answers}.value.ofType(Coding).code.first()"
            if options and all(code.lstrip("-").isdigit() for code, _ in options):
                self.add(name, f"{code_path}.toInteger()", "integer", text, link, _codes(options))
            else:
                self.add(name, code_path, "code", text, link, _codes(options) or _value_set(item))
        elif kind in _VALUE_TYPES:
            fhir_type, column_type = _VALUE_TYPES[kind]
            self.add(name, f"{answers}.value.ofType({fhir_type}).first()", column_type, text, link)
        elif kind == "quantity":
            self.add(name, f"{answers}.value.ofType(Quantity).value.first()", "decimal", text, link)
        elif _is_coded_string(item):
            self.add(name, f"{answers}.value.ofType(string).first()", "string", text, link)
        # string, text and the other kinds: free text or files, left out


def _value_set(item: dict[str, Any]) -> str:
    value_set = item.get("answerValueSet")
    return f"codes of {value_set}" if value_set else ""


def _base_columns() -> list[dict[str, Any]]:
    episode = f"extension({_quoted(EPISODE)}).value.ofType(Reference).getReferenceKey(EpisodeOfCare)"
    version = "iif(questionnaire.contains('|'), questionnaire.substring(questionnaire.indexOf('|') + 1), {})"
    base = [
        ("response", "getResourceKey()", "string", "The response (QuestionnaireResponse/id)", "id"),
        ("patient", "subject.getReferenceKey(Patient)", "string", "The patient (Patient/id)", "subject"),
        ("episode", episode, "string", "The registry episode (EpisodeOfCare/id)", "extension:episode"),
        ("status", "status", "code", "completed, or amended after it was completed", "status"),
        ("authored", "authored", "dateTime", "When the form was sent", "authored"),
        ("form_version", version, "string", "The version of the Questionnaire answered", "questionnaire"),
    ]
    return [
        {
            "name": name,
            "path": path,
            "type": kind,
            "description": description,
            "tag": [{"name": "element", "value": f"QuestionnaireResponse.{element}"}],
        }
        for name, path, kind, description, element in base
    ]


def view_name(questionnaire: dict[str, Any]) -> str:
    return PREFIX + snake(questionnaire.get("name") or questionnaire["id"])


def form_view(questionnaire: dict[str, Any]) -> dict[str, Any]:
    """The ViewDefinition of one registry form (FormViewError when it cannot be flattened)."""
    url = questionnaire["url"]
    columns = _Columns(questionnaire)
    columns.items(questionnaire.get("item") or [])
    reserved = {c["name"] for c in _base_columns()} & columns.names
    if reserved:
        raise FormViewError(f"{columns.source}: items named like the common columns: {', '.join(sorted(reserved))}")
    name = view_name(questionnaire)
    statuses = " or ".join(f"status = {_quoted(s)}" for s in KEPT_STATUSES)
    return {
        "resourceType": "ViewDefinition",
        "url": VIEW_CANONICAL + name,
        "name": name,
        "title": f"Dataset: {questionnaire.get('title') or name}",
        "status": "active",
        "resource": "QuestionnaireResponse",
        "description": (
            f"One row per completed response to {url} (any version; generated from version "
            f"{questionnaire['version']} by ig/views/build_form_views.py): the common columns, then one column per "
            "answer item with the registry's variable name and codes. Free text is left out."
        ),
        "extension": [{"url": SEARCH, "valueString": f"questionnaire={url}&status={','.join(KEPT_STATUSES)}"}],
        "select": [{"column": _base_columns() + columns.columns}],
        "where": [
            {"path": f"questionnaire = {_quoted(url)} or questionnaire.startsWith({_quoted(url + '|')})"},
            {"path": statuses},
        ],
    }
