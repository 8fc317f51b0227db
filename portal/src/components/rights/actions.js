// What the rights page writes: requests to the registry ($request-correction, $request-erasure), a consent
// withdrawn, and the reservation against questionnaires (R4) made or cancelled.
import { fhir } from "../../api.js";
import { EXCLUSION_SYSTEM } from "./record.js";

/** ``Patient/[id]/$request-correction`` or ``…/$request-erasure`` with the patient's text: the request's Task. */
export function sendRequest({ token, patientId, operation, text }) {
  const parameter = text ? [{ name: "text", valueString: text }] : [];
  return fhir(`Patient/${encodeURIComponent(patientId)}/$${operation}`, {
    method: "POST",
    token,
    body: { resourceType: "Parameters", parameter },
  });
}

/** The Consent set to ``inactive`` (a withdrawn consent, or a cancelled reservation). */
export function setInactive({ token, consent }) {
  return fhir(`Consent/${encodeURIComponent(consent.id)}`, {
    method: "PUT",
    token,
    body: { ...consent, status: "inactive" },
  });
}

/** R4: the patient opts out of further questionnaires — an active Consent denying them, as the workers read it. */
export function reservationFor(patientId, now = new Date()) {
  return {
    resourceType: "Consent",
    status: "active",
    scope: { coding: [{ system: "http://terminology.hl7.org/CodeSystem/consentscope", code: "patient-privacy" }] },
    category: [{ coding: [{ system: EXCLUSION_SYSTEM, code: "reservation" }] }],
    patient: { reference: `Patient/${patientId}` },
    dateTime: now.toISOString(),
    provision: { type: "deny" },
  };
}

export function reserve({ token, patientId }) {
  return fhir("Consent", { method: "POST", token, body: reservationFor(patientId) });
}
