"""Search indexes: what each SearchParameter extracts from a resource at write time, as typed rows.

``ResourceIndexer(definitions).rows(resource)`` → ``IndexRows`` (see ``rows``); ``normalize_string`` is the
string normalisation the query side must apply to search values too.
"""

from fhir_server.search.index.indexer import ResourceIndexer
from fhir_server.search.index.normalize import normalize_string
from fhir_server.search.index.rows import IndexRows

__all__ = ["IndexRows", "ResourceIndexer", "normalize_string"]
