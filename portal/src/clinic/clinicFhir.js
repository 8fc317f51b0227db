// The registry's resources as the clinicians' pages read and write them: the unit's appointments today and their
// episodes, the unfinished clinician forms (N13), an episode with its forms, and the clinician's own responses.
// Staff tokens are restricted to their unit by the server (N20): no search here names the unit.
import { ApiError, fhir, matches } from "../api.js";
import { osloDayBounds } from "./osloDates.js";
import { consentFor, FINAL_RESPONSE, hasConsented, pickQuestionnaire, REGISTRY_EXTENSION, registryOf, splitCanonical, withoutLeaks } from "../fhir.js";

const SD = "https://ryggrad.no/fhir/StructureDefinition/";
export const EPISODE_EXTENSION = SD + "episode";
const PLANNED_EXTENSION = SD + "planned-consultation";
const OPENED_BY = "https://ryggrad.no/fhir/sid/opening-appointment";
const HPR_SYSTEM = "urn:oid:2.16.578.1.12.4.1.4.4";
const FNR_SYSTEM = "urn:oid:2.16.578.1.12.4.1.4.1";
const DNR_SYSTEM = "urn:oid:2.16.578.1.12.4.1.4.2";
const TIMEPOINT_SYSTEM = "https://ryggrad.no/fhir/CodeSystem/registry-timepoint";
const PAGE = "200";

/** The clinician form of each registry that has one (the PlanDefinition's action of kind clinician). */
export const CLINICIAN_FORMS = { nnrr: "https://ryggrad.no/fhir/Questionnaire/nnrr-clinician" };
/** The short baseline the office gives on site in place of the baseline form (P6). */
export const SHORT_BASELINES = { opr: "https://ryggrad.no/fhir/Questionnaire/opr-short-baseline" };
const OPEN_TASK = ["requested", "received", "accepted", "ready", "in-progress"];

/** What a patient form's Task status means to the clinic. */
export const FORM_STATUS = {
  requested: "Ikke sendt ennå",
  ready: "Sendt, ikke besvart",
  "in-progress": "Påbegynt av pasienten",
  completed: "Besvart",
  cancelled: "Trukket tilbake",
  failed: "Ikke levert",
};

function chunks(values, size = 50) {
  const out = [];
  for (let i = 0; i < values.length; i += size) out.push(values.slice(i, i + size));
  return out;
}

/** Every match of a search with one OR-ed parameter over ``values`` (in chunks, to keep URLs short). */
async function searchAny(token, type, name, values, extra = {}) {
  const found = await Promise.all(
    chunks(values).map((part) => fhir(type, { token, params: { [name]: part.join(","), _count: PAGE, ...extra } })),
  );
  return found.flatMap(matches);
}

/** The patient's name as the clinic reads it (the national identity number when there is none). */
export function patientLabel(patient) {
  const name = (patient?.name || [])[0];
  const text = name?.text || [...(name?.given || []), name?.family].filter(Boolean).join(" ");
  if (text) return text;
  const id = (patient?.identifier || []).find((i) => i.system === FNR_SYSTEM || i.system === DNR_SYSTEM);
  return id?.value ? `Pasient ${id.value}` : "Pasient uten navn";
}

export function episodeRef(episode) {
  return `EpisodeOfCare/${episode.id}`;
}

function episodeOf(resource) {
  const found = (resource?.extension || []).find((e) => e.url === EPISODE_EXTENSION);
  return found?.valueReference?.reference || null;
}

/** The episode's planned consultation (N5). */
export function plannedConsultation(episode) {
  return (episode?.extension || []).find((e) => e.url === PLANNED_EXTENSION)?.valueDateTime || null;
}

function isBaseline(task) {
  return (task.code?.coding || []).some((c) => c.system === TIMEPOINT_SYSTEM && c.code === "baseline");
}

/** The unit's appointments on ``day`` (YYYY-MM-DD, Oslo), each with its patient, episode and pre-consultation form. */
export async function appointmentsOn(token, day) {
  const [start, end] = osloDayBounds(day).map(encodeURIComponent);
  const params = { _count: PAGE, _include: "Appointment:patient" };
  const bundle = await fhir(`Appointment?date=ge${start}&date=lt${end}`, { token, params });
  const appointments = matches(bundle).sort((a, b) => String(a.start).localeCompare(String(b.start)));
  const patients = new Map(
    (bundle?.entry || []).filter((e) => e.search?.mode === "include").map((e) => [`Patient/${e.resource.id}`, e.resource]),
  );
  const opened = appointments.map((a) => `${OPENED_BY}|Appointment/${a.id}`);
  const episodes = opened.length ? await searchAny(token, "EpisodeOfCare", "identifier", opened) : [];
  const live = episodes.filter((e) => e.status !== "entered-in-error");
  const tasks = live.length ? await searchAny(token, "Task", "episode", live.map(episodeRef)) : [];
  return appointments.map((appointment) => {
    const patientRef = (appointment.participant || []).map((p) => p.actor?.reference).find((r) => r?.startsWith("Patient/"));
    const episode = live.find((e) =>
      (e.identifier || []).some((i) => i.system === OPENED_BY && i.value === `Appointment/${appointment.id}`),
    );
    const baseline = episode && tasks.find((t) => episodeOf(t) === episodeRef(episode) && isBaseline(t));
    return { appointment, patient: patients.get(patientRef) || null, episode: episode || null, baseline: baseline || null };
  });
}

function partsOf(parameter) {
  const values = {};
  for (const part of parameter.part || []) {
    const key = Object.keys(part).find((k) => k.startsWith("value"));
    values[part.name] = key ? part[key] : null;
  }
  return values;
}

/** The unit's unfinished clinician forms, oldest first (``mine``: the caller's own only), with their patients (N13). */
export async function unfinishedForms(token, { mine = false } = {}) {
  const result = await fhir("QuestionnaireResponse/$unfinished-forms", { token, params: mine ? { mine: "true" } : {} });
  const forms = (result?.parameter || []).filter((p) => p.name === "form").map(partsOf);
  const patientIds = [...new Set(forms.map((f) => f.subject?.reference).filter((r) => r?.startsWith("Patient/")))];
  const patients = patientIds.length
    ? await searchAny(token, "Patient", "_id", patientIds.map((r) => r.split("/")[1]))
    : [];
  const byRef = new Map(patients.map((p) => [`Patient/${p.id}`, p]));
  return forms.map((form) => ({ ...form, patient: byRef.get(form.subject?.reference) || null }));
}

/** The newest Questionnaire for a canonical reference (its version if it names one). */
export async function questionnaireFor(token, canonical) {
  const [url, version] = splitCanonical(canonical);
  const found = matches(await fhir("Questionnaire", { token, params: { url } }));
  const questionnaire = pickQuestionnaire(found, version);
  if (!questionnaire) throw new ApiError(404, [`Fant ikke skjemaet ${url}.`]);
  return questionnaire;
}

/** What a write keeps of a resource's meta: its profiles and labels (the server keeps versions and owners). */
function keptMeta(meta) {
  const kept = {};
  if (meta?.profile) kept.profile = meta.profile;
  if (meta?.security) kept.security = meta.security;
  return Object.keys(kept).length ? { meta: kept } : {};
}

function newestFirst(resources) {
  return [...resources].sort((a, b) => String(b.meta?.lastUpdated || "").localeCompare(String(a.meta?.lastUpdated || "")));
}

/** The Practitioner with the caller's HPR number, as a reference (null when the directory has none). */
export async function practitionerByHpr(token, hpr) {
  if (!hpr) return null;
  const found = matches(await fhir("Practitioner", { token, params: { identifier: `${HPR_SYSTEM}|${hpr}` } }));
  return found[0] ? { reference: `Practitioner/${found[0].id}` } : null;
}

/** An episode and everything its page shows: the patient, the forms sent (Tasks), the patient's answers before the
 * consultation with any scores derived from them, and the clinician form (the booking-time draft of N5, reused). */
export async function loadEpisode(token, episodeId) {
  const episode = await fhir(`EpisodeOfCare/${encodeURIComponent(episodeId)}`, { token });
  const ref = episodeRef(episode);
  const [patient, tasks, responses] = await Promise.all([
    episode.patient?.reference ? fhir(episode.patient.reference, { token }) : null,
    fhir("Task", { token, params: { episode: ref, _count: PAGE } }).then(matches),
    fhir("QuestionnaireResponse", { token, params: { episode: ref, _count: PAGE } }).then(matches),
  ]);
  const registry = registryOf(episode);
  const baseline = tasks.find(isBaseline) || null;
  const answered = newestFirst(responses).find(
    (r) => baseline && FINAL_RESPONSE.includes(r.status) && (r.basedOn || []).some((b) => b.reference === `Task/${baseline.id}`),
  );
  const clinicianResponses = newestFirst(responses).filter((r) => !(r.basedOn || []).length && r.status !== "entered-in-error");
  const clinician = clinicianResponses.find((r) => FINAL_RESPONSE.includes(r.status)) || clinicianResponses[0] || null;
  const clinicianCanonical = clinician?.questionnaire || CLINICIAN_FORMS[registry] || null;
  const [answeredForm, scores, clinicianForm] = await Promise.all([
    answered ? questionnaireFor(token, answered.questionnaire) : null,
    answered ? scoresOf(token, answered) : [],
    clinicianCanonical ? questionnaireFor(token, clinicianCanonical) : null,
  ]);
  return { episode, patient, registry, baseline, answered, answeredForm, scores, clinician, clinicianForm };
}

async function scoresOf(token, response) {
  try {
    const params = { "derived-from": `QuestionnaireResponse/${response.id}`, _count: PAGE };
    return matches(await fhir("Observation", { token, params }));
  } catch {
    return []; // the scores are extra: the answers are shown without them
  }
}

/** The clinician form to write: the renderer's answers on the episode's response (the N5 draft when there is one,
 * keeping its episode and registry), about the episode's patient, by ``author``. */
export function clinicianResponseToWrite({ answers, base, questionnaire, episode, registry, author, status }) {
  const { meta, text, item, ...kept } = base || {};
  const canonical = questionnaire.version ? `${questionnaire.url}|${questionnaire.version}` : questionnaire.url;
  const extension = kept.extension || [
    { url: REGISTRY_EXTENSION, valueCoding: { system: "https://ryggrad.no/fhir/CodeSystem/registry", code: registry } },
    { url: EPISODE_EXTENSION, valueReference: { reference: episodeRef(episode) } },
  ];
  const response = {
    ...kept,
    resourceType: "QuestionnaireResponse",
    ...keptMeta(meta),
    extension,
    questionnaire: kept.questionnaire || canonical,
    status,
    subject: episode.patient,
    item: withoutLeaks(answers || {}).item || [],
    authored: new Date().toISOString(),
  };
  if (author) response.author = author;
  if (!response.item.length) delete response.item;
  return response;
}

/** Write the clinician form (PUT over the existing response, else POST). */
/** Delete an episode (N19): it becomes entered-in-error; the server's workers withdraw its forms. */
export async function deleteEpisode(token, episode) {
  const { meta, text, ...kept } = episode;
  return fhir(`EpisodeOfCare/${encodeURIComponent(episode.id)}`, {
    method: "PUT",
    token,
    body: { ...kept, ...keptMeta(meta), status: "entered-in-error" },
  });
}

/** Whether the office can give the short baseline now: a registry with one, the baseline form still open (P6). */
export function shortBaselineOpen(state) {
  return Boolean(SHORT_BASELINES[state.registry] && state.baseline && OPEN_TASK.includes(state.baseline.status) && !state.answered);
}

/** The short baseline to send: the renderer's answers, based on the baseline Task (the server completes the rest). */
export function shortBaselineToSend({ answers, questionnaire, task }) {
  const { meta, id, ...kept } = withoutLeaks(answers);
  return {
    ...kept,
    resourceType: "QuestionnaireResponse",
    questionnaire: questionnaire.version ? `${questionnaire.url}|${questionnaire.version}` : questionnaire.url,
    basedOn: [{ reference: `Task/${task.id}` }],
    subject: task.for,
    status: "completed",
    authored: new Date().toISOString(),
  };
}

/** Whether staff can key in the patient's paper form now (N4): the baseline form still open and unanswered. */
export function paperFormOpen(state) {
  return Boolean(state.baseline && OPEN_TASK.includes(state.baseline.status) && !state.answered);
}

/** Record the patient's consent given on the paper form (N2, N4), unless the patient has consented already. */
export async function recordPaperConsent(token, { task, registry }) {
  const consents = await fhir("Consent", { token, params: { patient: task.for.reference, _count: PAGE } }).then(matches);
  if (hasConsented(consents, registry)) return null;
  const body = consentFor({ task, registry, research: false, channel: "paper" });
  return fhir("Consent", { token, method: "POST", body });
}
