// The registry's resources as the portal reads and writes them: Tasks (forms to fill in), Questionnaires,
// QuestionnaireResponses and the patient's registry Consent (profiles/StructureDefinition-registry-consent.json).
const SD = "https://ryggrad.no/fhir/StructureDefinition/";
export const REGISTRY_EXTENSION = SD + "registry";
export const REGISTRY_SYSTEM = "https://ryggrad.no/fhir/CodeSystem/registry";
const CHANNEL_EXTENSION = SD + "consent-channel";
const CHANNEL_SYSTEM = "https://ryggrad.no/fhir/CodeSystem/consent-channel";
const CONSENT_PROFILE = SD + "registry-consent";
const PATIENT_CONSENT = { system: "http://loinc.org", code: "59284-0", display: "Patient Consent" };
const RESEARCH = { system: "http://terminology.hl7.org/CodeSystem/v3-ActReason", code: "HRESCH", display: "healthcare research" };

export const OPEN_STATUSES = ["ready", "in-progress"];
export const FINAL_RESPONSE = ["completed", "amended"];

/** The registry code (``nnrr``, ``opr``) a Task or Consent carries. */
export function registryOf(resource) {
  const found = (resource?.extension || []).find((e) => e.url === REGISTRY_EXTENSION);
  return found?.valueCoding?.code || null;
}

/** ``[url, version]`` of a canonical reference (``url|version``). */
export function splitCanonical(canonical) {
  const [url, version] = String(canonical || "").split("|");
  return [url, version || null];
}

function compareVersions(a, b) {
  const left = String(a || "").split(/[.-]/);
  const right = String(b || "").split(/[.-]/);
  for (let i = 0; i < Math.max(left.length, right.length); i += 1) {
    const [x, y] = [left[i] ?? "", right[i] ?? ""];
    const difference = /^\d+$/.test(x) && /^\d+$/.test(y) ? Number(x) - Number(y) : x.localeCompare(y);
    if (difference) return difference;
  }
  return 0;
}

/** The Questionnaire to show: the version asked for if there is one, else the newest. */
export function pickQuestionnaire(questionnaires, version = null) {
  const exact = version && questionnaires.find((q) => q.version === version);
  if (exact) return exact;
  return [...questionnaires].sort(
    (a, b) =>
      compareVersions(b.version, a.version) ||
      String(b.meta?.lastUpdated || "").localeCompare(String(a.meta?.lastUpdated || "")),
  )[0];
}

/** The Task's deadline (its due period's end), if it has one. */
export function deadlineOf(task) {
  return task?.restriction?.period?.end || null;
}

/** The responses to ``taskId``: the final one (if sent) and the newest draft. */
export function responsesToTask(responses, taskId) {
  const mine = responses.filter((r) => (r.basedOn || []).some((b) => b.reference === `Task/${taskId}`));
  const newestFirst = [...mine].sort((a, b) =>
    String(b.meta?.lastUpdated || "").localeCompare(String(a.meta?.lastUpdated || "")),
  );
  return {
    sent: newestFirst.find((r) => FINAL_RESPONSE.includes(r.status)) || null,
    draft: newestFirst.find((r) => r.status === "in-progress") || null,
  };
}

/** The response with every ``initialSelected`` field removed, at any depth (refero 22.2.1 leaks them). */
export function withoutLeaks(response) {
  return JSON.parse(JSON.stringify(response, (key, value) => (key === "initialSelected" ? undefined : value)));
}

/** The response to send: the renderer's answers, about the Task's patient, based on the Task. */
export function responseToSend({ answers, questionnaire, task, status, id }) {
  const response = {
    ...withoutLeaks(answers),
    resourceType: "QuestionnaireResponse",
    questionnaire: questionnaire.version ? `${questionnaire.url}|${questionnaire.version}` : questionnaire.url,
    basedOn: [{ reference: `Task/${task.id}` }],
    subject: task.for,
    status,
  };
  delete response.meta;
  if (id) response.id = id;
  else delete response.id;
  return response;
}

/** An active consent of the patient that permits the registry. */
export function hasConsented(consents, registry) {
  return consents.some(
    (c) =>
      c.status === "active" &&
      registryOf(c) === registry &&
      (c.provision?.type || "permit") === "permit" &&
      (c.category || []).some((cc) => (cc.coding || []).some((k) => k.system === PATIENT_CONSENT.system && k.code === PATIENT_CONSENT.code)),
  );
}

/** The patient's consent to the registry, given in the portal — or on paper, keyed in by staff (N4) — (``research``:
 * also to research use). */
export function consentFor({ task, registry, research, channel = "digital", now = new Date() }) {
  return {
    resourceType: "Consent",
    meta: { profile: [CONSENT_PROFILE] },
    extension: [
      { url: REGISTRY_EXTENSION, valueCoding: { system: REGISTRY_SYSTEM, code: registry } },
      { url: CHANNEL_EXTENSION, valueCoding: { system: CHANNEL_SYSTEM, code: channel } },
    ],
    status: "active",
    scope: { coding: [{ system: "http://terminology.hl7.org/CodeSystem/consentscope", code: "patient-privacy" }] },
    category: [{ coding: [PATIENT_CONSENT] }],
    patient: task.for,
    dateTime: now.toISOString(),
    policy: [{ uri: `https://ryggrad.no/fhir/policy/${registry}-participation` }],
    provision: {
      type: "permit",
      provision: [{ type: research ? "permit" : "deny", purpose: [RESEARCH] }],
    },
  };
}
