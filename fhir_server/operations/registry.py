"""The operations this server offers, one line each: where an operation is invoked (the system, a type, one
instance), by which methods, and the OperationDefinition that declares it. The router finds operations here, the
CapabilityStatement lists them from here, and a test holds each line to its OperationDefinition (code, resource,
levels; an operation that changes state is POST only)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fhir_server.operations import (
    bulk_export,
    measure_evaluate_measure,
    organization_quality_report,
    patient_erase,
    patient_everything,
    patient_request_correction,
    patient_request_erasure,
    redeem_code,
    subscription_events,
    subscription_status,
    task_call_list,
    task_dispatch_now,
    task_issue_code,
    unfinished_forms,
    validate,
    viewdefinition_run,
)
from fhir_server.rest.messages import FhirResponse

Handler = Callable[..., FhirResponse]
ANY_TYPE = "*"


@dataclass(frozen=True)
class Operation:
    code: str  # as invoked, without the "$"
    definition: str  # the OperationDefinition's canonical URL
    handler: Handler
    resource: str | None = None  # None: invoked on the system; ANY_TYPE: on every type
    type_level: bool = False
    instance: bool = False
    methods: tuple[str, ...] = ("POST",)
    #: what the caller's scopes and role must allow on the resource type (c/r/u/d/s); None: create to run an
    #: operation on a type, read to run one on an instance. System-level operations check their callers themselves.
    permission: str | None = None
    #: ``resource`` is no resource type of this server (ViewDefinition, SQL-on-FHIR's logical model): the handler gets
    #: no path arguments (an instance's id it reads from the path) and checks its callers itself, as a system-level
    #: operation does
    logical: bool = False

    @property
    def system(self) -> bool:
        return self.resource is None


OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "validate",
        validate.DEFINITION,
        validate.validate,
        ANY_TYPE,
        type_level=True,
        instance=True,
        methods=("GET", "POST"),
    ),
    Operation(
        "status",
        subscription_status.DEFINITION,
        subscription_status.status,
        "Subscription",
        instance=True,
        methods=("GET",),
    ),
    Operation(
        "events",
        subscription_events.DEFINITION,
        subscription_events.events,
        "Subscription",
        instance=True,
        methods=("GET",),
    ),
    Operation(
        "dispatch-now",
        task_dispatch_now.DEFINITION,
        task_dispatch_now.dispatch_now,
        "Task",
        instance=True,
        permission="u",
    ),
    Operation(
        "issue-code", task_issue_code.DEFINITION, task_issue_code.issue_code, "Task", instance=True, permission="u"
    ),
    Operation(
        "call-list",
        task_call_list.DEFINITION,
        task_call_list.call_list,
        "Task",
        type_level=True,
        methods=("GET", "POST"),
        permission="s",
    ),
    Operation(
        "unfinished-forms",
        unfinished_forms.DEFINITION,
        unfinished_forms.unfinished_forms,
        "QuestionnaireResponse",
        type_level=True,
        methods=("GET", "POST"),
        permission="s",
    ),
    Operation(
        "everything",
        patient_everything.DEFINITION,
        patient_everything.everything,
        "Patient",
        type_level=True,
        instance=True,
        methods=("GET", "POST"),
        permission="r",
    ),
    Operation(
        "request-correction",
        patient_request_correction.DEFINITION,
        patient_request_correction.request_correction,
        "Patient",
        type_level=True,
        instance=True,
        permission="r",  # the patient's own request about their record; the server writes the Task
    ),
    Operation(
        "request-erasure",
        patient_request_erasure.DEFINITION,
        patient_request_erasure.request_erasure,
        "Patient",
        type_level=True,
        instance=True,
        permission="r",
    ),
    Operation("erase", patient_erase.DEFINITION, patient_erase.patient_erase, "Patient", instance=True, permission="d"),
    Operation("redeem-code", redeem_code.DEFINITION, redeem_code.redeem_code),
    Operation(
        "quality-report",
        organization_quality_report.DEFINITION,
        organization_quality_report.quality_report,
        "Organization",
        instance=True,
        methods=("GET",),
        permission="r",
    ),
    Operation(
        "evaluate-measure",
        measure_evaluate_measure.DEFINITION,
        measure_evaluate_measure.evaluate_measure,
        "Measure",
        type_level=True,
        instance=True,
        methods=("GET",),
        permission="r",
    ),
    Operation(
        "run",
        viewdefinition_run.DEFINITION,
        viewdefinition_run.run,
        "ViewDefinition",
        type_level=True,
        instance=True,
        methods=("GET", "POST"),
        logical=True,
    ),
    Operation("export", bulk_export.DEFINITION, bulk_export.export_system, methods=("GET", "POST")),
    Operation(
        "export",
        bulk_export.PATIENT_DEFINITION,
        bulk_export.export_patients,
        "Patient",
        type_level=True,
        methods=("GET", "POST"),
        permission="s",
    ),
    Operation(
        "export",
        bulk_export.GROUP_DEFINITION,
        bulk_export.export_group,
        "Group",
        instance=True,
        methods=("GET", "POST"),
        permission="r",
    ),
)

#: Operations that need no access token (the caller has none yet: a tablet redeeming a one-time code).
PUBLIC: frozenset[str] = frozenset({"redeem-code"})


def find(parts: tuple[str, ...]) -> tuple[Operation, tuple[str, ...]] | None:
    """The operation a path names (``$op``, ``Type/$op``, ``Type/id/$op``) and the path arguments its handler
    takes (none, the type, or the type and id); None when the path names no operation this server offers."""
    if not parts or not parts[-1].startswith("$"):
        return None
    code, args = parts[-1][1:], parts[:-1]
    for operation in OPERATIONS:
        if operation.code != code:
            continue
        if not args:
            if operation.system:
                return operation, args
            continue
        if operation.system or operation.resource not in (ANY_TYPE, args[0]):
            continue
        if (len(args) == 1 and operation.type_level) or (len(args) == 2 and operation.instance):
            return operation, (() if operation.logical else args)
    return None


def on_type(resource_type: str) -> list[Operation]:
    """The operations invoked on ``resource_type`` or its instances (for the CapabilityStatement)."""
    return [op for op in OPERATIONS if op.resource in (ANY_TYPE, resource_type)]


def on_system() -> list[Operation]:
    """The system-level operations, and those on a logical type (listed here: the CapabilityStatement has no entry
    for a type that is not an R4 resource type)."""
    return [op for op in OPERATIONS if op.system or op.logical]
