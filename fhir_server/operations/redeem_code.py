"""``POST $redeem-code``: a clinic tablet turns a one-time code (registry rule N8, ``Task/[id]/$issue-code``) into a
session that opens that one form. No access token is needed (the tablet has none); attempts are rate-limited per
address and overall before they get here. A wrong, expired or spent code, or one whose form has meanwhile been
answered or cancelled, is a 400 that does not say which; each refusal is in the audit trail."""

from __future__ import annotations

from fhir_server.errors import FhirError, Issue
from fhir_server.operations.parameters import operation_definition, parse
from fhir_server.operations.task_issue_code import OPEN
from fhir_server.rest.context import Context
from fhir_server.rest.messages import FhirRequest, FhirResponse

DEFINITION = "https://ryggrad.no/fhir/OperationDefinition/redeem-code"
REFUSED = "The code is not valid: it may be mistyped, used already or expired. Ask the reception for a new one."


def redeem_code(ctx: Context, req: FhirRequest) -> FhirResponse:
    values = parse(operation_definition(ctx.server.definitions, DEFINITION), req.body, req.query)
    session = ctx.server.one_time_codes.redeem(ctx.conn, str(values["code"][0]), ctx.now)
    task = ctx.store.current("Task", session.task_id) if session is not None else None
    if session is None or task is None or task.content is None or task.content.get("status") not in OPEN:
        from fhir_server.audit.events import login_failure  # the audit trail names interactions by the router

        ctx.server.audit.record(login_failure(ctx.now, "one-time code refused", 400))
        raise FhirError(400, [Issue("security", REFUSED)])
    lifetime = int((session.expires - ctx.now).total_seconds())
    parameters = [
        {"name": "access_token", "valueString": session.token},
        {"name": "token_type", "valueString": "Bearer"},
        {"name": "expires_in", "valueInteger": lifetime},
        {"name": "task", "valueReference": {"reference": f"Task/{session.task_id}"}},
    ]
    focus = (task.content.get("focus") or {}).get("reference")
    if focus:
        parameters.append({"name": "questionnaire", "valueString": str(focus)})
    return FhirResponse(200, {"resourceType": "Parameters", "parameter": parameters})
