"""Reverse chaining: ``Patient?_has:Observation:patient:code=1234`` — Patients that an Observation matching
``code=1234`` refers to by ``patient``. The inner parameter may itself be a chain or another ``_has``."""

from __future__ import annotations

from sqlalchemy import ColumnElement, union

from fhir_server.errors import bad_request
from fhir_server.search.query.context import QueryContext, UnknownParameter
from fhir_server.search.query.parameters import HasLink
from fhir_server.search.query.sql import index_rids, live_resources, live_rids, member_of
from fhir_server.storage.schema import resource, search_reference, search_uri


def condition(
    ctx: QueryContext, resource_type: str | None, link: HasLink, name: str, value: str, depth: int
) -> ColumnElement[bool]:
    if resource_type is None:
        raise bad_request(f"'{name}': _has needs a resource type to search", name)
    source = link.source_type
    if not ctx.registry.is_resource_type(source):
        raise bad_request(f"'{name}': '{source}' is not a resource type", name)
    param = ctx.registry.get(source, link.reference)
    if param is None or not param.supported:
        raise UnknownParameter(f"{source} has no searchable parameter '{link.reference}'")
    if param.type != "reference":
        raise bad_request(f"'{name}': {source}.{link.reference} is not a reference parameter", name)
    if param.targets and resource_type not in param.targets and "Resource" not in param.targets:
        raise bad_request(f"'{name}': {source}.{link.reference} does not refer to {resource_type}", name)
    inner = ctx.restricted(source, ctx.resolve(source, link.inner, value, depth + 1))
    sources = live_rids(inner)  # the index rows' rids as they are, when the inner condition is one set of them
    if sources is None:
        sources = live_resources(source, inner)
    ref = search_reference
    targets = index_rids(ref, source, link.reference, member_of(ref.c.rid, sources), ref.c.target_type == resource_type)
    target_ids = targets.with_only_columns(ref.c.target_id)
    by_id_rids = live_resources(resource_type, member_of(resource.c.id, target_ids))
    url_param = ctx.registry.get(resource_type, "url")
    if url_param is None or url_param.type != "uri" or not url_param.supported:
        if ctx.dialect == "postgresql":
            # the targets' rids, looked up by id once: on ``resource.id IN …`` PostgreSQL may walk every resource
            # in rid order testing each, expecting the page to fill quickly
            return resource.c.rid.in_(by_id_rids)
        return resource.c.id.in_(target_ids)  # one nesting level less: SQLite's parser stack is shallow
    # canonical resources are also referred to by their url
    urls = index_rids(ref, source, link.reference, member_of(ref.c.rid, sources), ref.c.url.is_not(None))
    by_url = index_rids(
        search_uri, resource_type, "url", member_of(search_uri.c.value, urls.with_only_columns(ref.c.url))
    )
    return resource.c.rid.in_(union(by_id_rids, by_url))
