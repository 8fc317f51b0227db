"""FHIR errors: every failure a client sees is an OperationOutcome with the right status code."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Issue:
    """One OperationOutcome.issue."""

    code: str
    diagnostics: str
    severity: str = "error"
    expression: tuple[str, ...] = ()

    def to_fhir(self) -> dict[str, Any]:
        issue: dict[str, Any] = {
            "severity": self.severity,
            "code": self.code,
            "diagnostics": self.diagnostics,
        }
        if self.expression:
            issue["expression"] = list(self.expression)
        return issue


def operation_outcome(issues: list[Issue] | tuple[Issue, ...]) -> dict[str, Any]:
    return {"resourceType": "OperationOutcome", "issue": [i.to_fhir() for i in issues]}


@dataclass
class FhirError(Exception):
    """An error answered with ``status`` and an OperationOutcome made of ``issues``."""

    status: int
    issues: list[Issue]
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:  # pragma: no cover - for logs
        return f"{self.status}: " + "; ".join(i.diagnostics for i in self.issues)

    @property
    def outcome(self) -> dict[str, Any]:
        return operation_outcome(self.issues)

    def at_expression(self, prefix: str) -> FhirError:
        """The same error with every issue's expression prefixed (used for Bundle entries)."""
        issues = [
            Issue(i.code, i.diagnostics, i.severity, tuple(f"{prefix}.{e}" for e in i.expression) or (prefix,))
            for i in self.issues
        ]
        return FhirError(self.status, issues, self.headers)


def fhir_error(status: int, code: str, diagnostics: str, *expression: str) -> FhirError:
    return FhirError(status, [Issue(code, diagnostics, expression=tuple(expression))])


def bad_request(diagnostics: str, *expression: str) -> FhirError:
    return fhir_error(400, "invalid", diagnostics, *expression)


def not_found(diagnostics: str) -> FhirError:
    return fhir_error(404, "not-found", diagnostics)


def gone(diagnostics: str) -> FhirError:
    return fhir_error(410, "deleted", diagnostics)


def conflict(diagnostics: str) -> FhirError:
    return fhir_error(409, "conflict", diagnostics)


def precondition_failed(diagnostics: str) -> FhirError:
    return fhir_error(412, "conflict", diagnostics)


def unprocessable(diagnostics: str, *expression: str) -> FhirError:
    return fhir_error(422, "processing", diagnostics, *expression)
