"""A view's rows written out: ``json`` (an array of objects), ``ndjson`` (one object a line), ``csv`` (a header, then
one line a row) or ``parquet`` (a typed table, with pyarrow).

    content, media_type = encode(rows, columns, "csv")

Values are the runner's JSON-ready ones. In CSV an empty field is null, booleans are ``true``/``false`` and a
complex or ``collection`` value is its JSON text; in Parquet each column gets the type the view declares (integers
int64, decimals float64, booleans bool, the rest — codes, dates, keys — strings), complex values JSON text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

import orjson

from fhir_server.views.tables import BOOLEAN_TYPES, DECIMAL_TYPES, INTEGER_TYPES, column_types

MEDIA_TYPES = {
    "json": "application/json",
    "ndjson": "application/x-ndjson",
    "csv": "text/csv; charset=utf-8",
    "parquet": "application/vnd.apache.parquet",
}
EXTENSIONS = {"json": "json", "ndjson": "ndjson", "csv": "csv", "parquet": "parquet"}
#: what a ``_format`` may say, by the format it means
ALIASES = {
    "json": "json",
    "application/json": "json",
    "ndjson": "ndjson",
    "application/x-ndjson": "ndjson",
    "application/fhir+ndjson": "ndjson",
    "csv": "csv",
    "text/csv": "csv",
    "parquet": "parquet",
    "application/vnd.apache.parquet": "parquet",
}


def output_format(value: str | None, default: str = "ndjson") -> str | None:
    """The format a ``_format`` value names (its default when absent); None for one not offered."""
    if value is None or not value.strip():
        return default
    return ALIASES.get(value.split(";")[0].strip().lower())


def encode(
    rows: Iterable[dict[str, Any]], columns: list[str], form: str, view: dict[str, Any], *, header: bool = True
) -> bytes:
    """The rows in ``form`` (json, ndjson, csv, parquet); ``view`` gives the Parquet column types."""
    if form == "json":
        return orjson.dumps(list(rows))
    if form == "ndjson":
        return b"".join(orjson.dumps(row) + b"\n" for row in rows)
    if form == "csv":
        return _csv(rows, columns, header)
    if form == "parquet":
        return _parquet(list(rows), columns, view)
    raise ValueError(f"unknown format {form!r}")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return orjson.dumps(value).decode()
    return str(value)


def _csv(rows: Iterable[dict[str, Any]], columns: list[str], header: bool) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if header:
        writer.writerow(columns)
    for row in rows:
        writer.writerow([_text(row.get(name)) for name in columns])
    return out.getvalue().encode("utf-8")


def _parquet(rows: list[dict[str, Any]], columns: list[str], view: dict[str, Any]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    declared = column_types(view)
    fields, arrays = [], []
    for name in columns:
        fhir_type, collection = declared.get(name, (None, False))
        values = [row.get(name) for row in rows]
        if collection or fhir_type not in INTEGER_TYPES | DECIMAL_TYPES | BOOLEAN_TYPES:
            kind = pa.string()
            values = [None if v is None else v if isinstance(v, str) else _text(v) for v in values]
        elif fhir_type in INTEGER_TYPES:
            kind = pa.int64()
        elif fhir_type in DECIMAL_TYPES:
            kind = pa.float64()
            values = [None if v is None else float(v) for v in values]
        else:
            kind = pa.bool_()
        fields.append(pa.field(name, kind))
        arrays.append(pa.array(values, type=kind))
    table = pa.Table.from_arrays(arrays, schema=pa.schema(fields))
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()
