"""The SQL is index-friendly: each parameter type's condition can be answered from its index on both databases.

SQLite: ``EXPLAIN QUERY PLAN`` must SEARCH the expected index with the expected constraints. PostgreSQL: after
filling the index tables with a few thousand distinct values and ANALYZE (so that the planner has a reason to pick
one index over another), with sequential scans disabled, the plan must use the expected index.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from fhir_server.storage.schema import (
    resource,
    search_number,
    search_quantity,
    search_reference,
    search_string,
    search_token,
    search_uri,
)

CASES = [
    ("Patient", "name=kari", "ix_search_string_resource_type_param_value_rid", "value>? AND value<?"),
    ("Patient", "name:exact=Kari", "ix_search_string_resource_type_param_value_rid", "value=?"),
    (
        "Patient",
        "gender=http://hl7.org/fhir/administrative-gender|male",
        "ix_search_token_resource_type_param_code_rid_system",
        "code=?",
    ),
    ("Patient", "gender=male", "ix_search_token_resource_type_param_code_rid_system", "code=?"),
    ("Observation", "code:text=blod", "ix_search_token_resource_type_param_text", "text>? AND text<?"),
    (
        "Observation",
        "subject=Patient/p1",
        "ix_search_reference_param_target_rid|ix_search_reference_target",
        "target_id=?",
    ),
    (
        "Observation",
        "subject:identifier=urn:x|1",
        "ix_search_reference_resource_type_param_identifier_value",
        "identifier_value=?",
    ),
    (
        "QuestionnaireResponse",
        "questionnaire=http://x.org/Questionnaire/q",
        "ix_search_reference_resource_type_param_url_rid",
        "url=?",
    ),
    (
        "ValueSet",
        "url:below=http://acme.org/fhir/",
        "ix_search_uri_resource_type_param_value_rid",
        "value>? AND value<?",
    ),
    (
        "Observation",
        "value-quantity=5.4|http://unitsofmeasure.org|mg",
        "ix_search_quantity_resource_type_param_code_low",
        "code=?",
    ),
    ("RiskAssessment", "probability=lt0.5", "ix_search_number_resource_type_param_low", "low<?"),
    (
        "Observation",
        "subject:Patient.name=kari",
        "ix_search_string_resource_type_param_value_rid",
        "value>? AND value<?",
    ),
    ("Patient", "_has:Observation:subject:code=1234", "ix_search_token_resource_type_param_code_rid_system", "code=?"),
]


@pytest.fixture(scope="module")
def postgres(server):
    """PostgreSQL only: a connection whose transaction (rolled back at the end) holds a few thousand resources with
    index rows of distinct values, analysed, so that the planner has real statistics to choose an index by."""
    if not server.db.is_postgres:
        yield None
        return
    with server.db.engine.connect() as conn:
        transaction = conn.begin()
        try:
            _fill(conn)
            for table in ("resource", *(t.name for t in TABLES)):
                conn.execute(text(f"ANALYZE {table}"))
            yield conn
        finally:
            transaction.rollback()


TABLES = (search_string, search_token, search_reference, search_uri, search_quantity, search_number)


def _fill(conn, size: int = 2000) -> None:
    rids: dict[str, list[int]] = {}
    for rt in ("Patient", "Observation", "RiskAssessment", "ValueSet", "QuestionnaireResponse"):
        values = [
            {"resource_type": rt, "id": f"plans-{i}", "version_id": 1, "last_updated": datetime(2020, 1, 1)}
            for i in range(size)
        ]
        rids[rt] = list(
            conn.execute(resource.insert().returning(resource.c.rid, sort_by_parameter_order=True), values).scalars()
        )

    def rows(rt: str, param: str, **columns):
        return [
            {"rid": rid, "resource_type": rt, "param": param, **{k: f(i) for k, f in columns.items()}}
            for i, rid in enumerate(rids[rt])
        ]

    conn.execute(search_string.insert(), rows("Patient", "name", value=lambda i: f"v{i}", exact=lambda i: f"V{i}"))
    conn.execute(search_token.insert(), rows("Patient", "gender", system=lambda i: f"s{i % 7}", code=lambda i: f"c{i}"))
    conn.execute(search_token.insert(), rows("Observation", "code", code=lambda i: f"c{i}", text=lambda i: f"t{i}"))
    subject = rows(
        "Observation",
        "subject",
        target_type=lambda i: "Patient",
        target_id=lambda i: f"plans-{i}",
        identifier_value=lambda i: f"i{i}",
    )
    conn.execute(search_reference.insert(), subject)
    canonicals = rows("QuestionnaireResponse", "questionnaire", url=lambda i: f"http://x.org/Questionnaire/{i}")
    conn.execute(search_reference.insert(), canonicals)
    conn.execute(search_uri.insert(), rows("ValueSet", "url", value=lambda i: f"http://v{i}.org/"))
    quantities = rows(
        "Observation",
        "value-quantity",
        code=lambda i: f"u{i % 50}",
        low=lambda i: Decimal(i),
        high=lambda i: Decimal(i + 1),
    )
    conn.execute(search_quantity.insert(), quantities)
    numbers = rows("RiskAssessment", "probability", low=lambda i: Decimal(i), high=lambda i: Decimal(i + 1))
    conn.execute(search_number.insert(), numbers)


def _sql(seed, resource_type: str, query: str, dialect) -> str:
    name, value = query.split("=", 1)
    plan = seed.plan(resource_type, [(name, value)])
    statement = select(resource.c.id).where(*plan.conditions)
    return str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


@pytest.mark.parametrize(("resource_type", "query", "index", "constraint"), CASES)
def test_conditions_use_their_index(postgres, seed, resource_type, query, index, constraint):
    db = seed.server.db
    sql = _sql(seed, resource_type, query, db.engine.dialect)
    if postgres is not None:
        postgres.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(row[0] for row in postgres.execute(text("EXPLAIN " + sql)))
        assert any(name in plan for name in index.split("|")), plan
        return
    with db.reading() as conn:
        plan = "\n".join(row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
    expected = index.split("|")[0]
    assert re.search(
        f"USING (COVERING )?INDEX {expected} \\(resource_type=\\? AND param=\\? AND {re.escape(constraint)}", plan
    ), plan
