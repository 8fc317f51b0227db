// Calls to the server's FHIR API (same origin) and its errors, with every OperationOutcome issue as a message.
export class ApiError extends Error {
  constructor(status, messages) {
    super(messages.join(" "));
    this.status = status;
    this.messages = messages;
  }
}

const FHIR_JSON = "application/fhir+json";
let onUnauthorized = () => {};

/** Called when the server refuses the session's token (expired or ended). */
export function setUnauthorizedHandler(handler) {
  onUnauthorized = handler;
}

export function outcomeMessages(outcome) {
  if (outcome?.resourceType !== "OperationOutcome") return [];
  return (outcome.issue || []).map((issue) => {
    const text = issue.diagnostics || issue.details?.text || issue.code || "Ukjent feil";
    const where = (issue.expression || issue.location || []).join(", ");
    return where ? `${text} (${where})` : text;
  });
}

function messagesFor(status, data) {
  const messages = outcomeMessages(data);
  if (messages.length) return messages;
  if (status === 401) return ["Økten er utløpt. Logg inn på nytt."];
  if (status === 403) return ["Du har ikke tilgang til dette."];
  if (status === 404) return ["Fant ikke det du ba om."];
  if (status === 429) return ["For mange forsøk. Vent litt og prøv igjen."];
  if (typeof data?.error === "string") return [data.error];
  return [`Noe gikk galt hos oss (feilkode ${status}). Prøv igjen senere.`];
}

export async function request(path, { method = "GET", token, body, params, type = "application/json" } = {}) {
  const url = new URL(path, window.location.origin);
  for (const [name, value] of Object.entries(params || {})) url.searchParams.set(name, value);
  const headers = { Accept: type };
  if (body !== undefined) headers["Content-Type"] = type;
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
    });
  } catch {
    throw new ApiError(0, ["Fikk ikke kontakt med tjenesten. Sjekk nettforbindelsen og prøv igjen."]);
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    if (response.status === 401 && token) onUnauthorized();
    throw new ApiError(response.status, messagesFor(response.status, data));
  }
  return data;
}

/** A FHIR interaction: ``fhir("Task/123", {token})``. */
export function fhir(path, options = {}) {
  return request(`/fhir/${path}`, { ...options, type: FHIR_JSON });
}

/** The matches of a search Bundle (no included resources or outcomes). */
export function matches(bundle) {
  return (bundle?.entry || []).filter((e) => !e.search || e.search.mode === "match").map((e) => e.resource);
}

/** Write a QuestionnaireResponse: update it where it has an id, else create it; the written response. */
export function writeResponse(token, response) {
  return response.id
    ? fhir(`QuestionnaireResponse/${encodeURIComponent(response.id)}`, { method: "PUT", token, body: response })
    : fhir("QuestionnaireResponse", { method: "POST", token, body: response });
}
