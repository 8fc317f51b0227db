// The patient's record as $everything returns it, sorted into what the rights page shows: registrations
// (EpisodeOfCare), forms sent (Tasks), answers (QuestionnaireResponses), registry consents, the reservation against
// questionnaires (R4) and the patient's own requests (correction, erasure). Plain functions, no React.
import { fhir, matches } from "../../api.js";
import { REGISTRY_EXTENSION, splitCanonical } from "../../fhir.js";

export const PATIENT_CONSENT_CODE = { system: "http://loinc.org", code: "59284-0" };
export const EXCLUSION_SYSTEM = "https://ryggrad.no/fhir/CodeSystem/registry-exclusion";
const SHOWN = ["Patient", "EpisodeOfCare", "Task", "QuestionnaireResponse", "Consent"];
export const REQUEST_SYSTEM = "https://ryggrad.no/fhir/CodeSystem/patient-request";

function hasCoding(concepts, { system, code }) {
  return (concepts || []).some((concept) =>
    (concept?.coding || []).some((c) => c.system === system && c.code === code),
  );
}

/** The kind of a patient's request Task (``correction``, ``erasure``), or null for a form. */
export function requestKind(task) {
  return (task.code?.coding || []).find((c) => c.system === REQUEST_SYSTEM)?.code || null;
}

/** A registry consent (the patient agreed to take part), as opposed to a reservation. */
export function isRegistryConsent(consent) {
  return hasCoding(consent.category, PATIENT_CONSENT_CODE);
}

/** A reservation against further questionnaires (R4). */
export function isReservation(consent) {
  return hasCoding(consent.category, { system: EXCLUSION_SYSTEM, code: "reservation" });
}

/** The registry code of a resource carrying the registry extension (Task, Consent, EpisodeOfCare). */
export function registryCode(resource) {
  return (resource?.extension || []).find((e) => e.url === REGISTRY_EXTENSION)?.valueCoding?.code || null;
}

/** A response the patient gave (they are its author or its source), not a form the clinic fills in. */
export function isPatientsAnswer(response) {
  return [response.author, response.source].some((who) => String(who?.reference || "").startsWith("Patient/"));
}

function newestFirst(resources, dateOf) {
  return [...resources].sort((a, b) => String(dateOf(b) || "").localeCompare(String(dateOf(a) || "")));
}

export const consentDate = (consent) => consent.dateTime || consent.meta?.lastUpdated || null;
export const taskDate = (task) => task.authoredOn || task.meta?.lastUpdated || null;
export const responseDate = (response) => response.authored || response.meta?.lastUpdated || null;

/** The record's resources sorted by what they are, each list newest first. */
export function sortRecord(bundle) {
  const resources = matches(bundle);
  const ofType = (type) => resources.filter((r) => r.resourceType === type);
  const tasks = newestFirst(ofType("Task"), taskDate);
  const consents = newestFirst(ofType("Consent"), consentDate);
  const responses = newestFirst(ofType("QuestionnaireResponse"), responseDate);
  return {
    patientId: ofType("Patient")[0]?.id || null,
    episodes: newestFirst(ofType("EpisodeOfCare"), (e) => e.period?.start || e.meta?.lastUpdated),
    forms: tasks.filter((t) => !requestKind(t)),
    requests: tasks.filter((t) => requestKind(t)),
    responses: responses.filter(isPatientsAnswer),
    clinicForms: responses.filter((r) => !isPatientsAnswer(r)),
    consents: consents.filter(isRegistryConsent),
    reservations: consents.filter(isReservation),
    others: resources.filter((r) => !SHOWN.includes(r.resourceType)),
  };
}

/** The titles of the Questionnaires the responses answer, by canonical URL (without version). */
async function questionnaireTitles(token, responses) {
  const urls = [...new Set(responses.map((r) => splitCanonical(r.questionnaire)[0]).filter(Boolean))];
  const found = await Promise.all(
    urls.map((url) =>
      fhir("Questionnaire", { token, params: { url, _elements: "url,title" } }).then(matches, () => []),
    ),
  );
  const titles = {};
  for (const questionnaire of found.flat()) if (questionnaire.title) titles[questionnaire.url] = questionnaire.title;
  return titles;
}

/** Everything the registry holds about the signed-in patient: the Bundle (for the download) and its sorting. */
export async function loadRecord(token) {
  const bundle = await fhir("Patient/$everything", { token });
  const record = sortRecord(bundle);
  const titles = await questionnaireTitles(token, [...record.responses, ...record.clinicForms]);
  return { bundle, ...record, titles };
}
