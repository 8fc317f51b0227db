"""The one error a ViewDefinition run raises: a malformed view or a value the view forbids."""

from __future__ import annotations


class ViewDefinitionError(ValueError):
    """A ViewDefinition is invalid, or running it met a value it does not allow.

    Raised for structural problems found before any resource is read (a missing `resource`, a path
    that does not parse, unionAll branches with different columns, an undefined constant) and for
    problems only the data reveals (a non-collection column or a `where` path yielding several
    values or a non-boolean).
    """
