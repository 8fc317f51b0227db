// Norwegian texts for the codes the rights page shows (statuses of registrations, forms, answers, consents and
// requests): what a patient reads instead of FHIR codes.
const EPISODE = {
  planned: "Planlagt",
  waitlist: "På venteliste",
  active: "Pågår",
  onhold: "Satt på vent",
  finished: "Avsluttet",
  cancelled: "Avlyst",
  "entered-in-error": "Registrert ved en feil",
};
const FORM = {
  draft: "Ikke sendt til deg ennå",
  requested: "Ikke sendt til deg ennå",
  received: "Ikke sendt til deg ennå",
  accepted: "Ikke sendt til deg ennå",
  ready: "Venter på svar fra deg",
  "in-progress": "Påbegynt",
  completed: "Besvart",
  cancelled: "Trukket tilbake",
  failed: "Ikke besvart innen fristen",
  rejected: "Avvist",
  "on-hold": "Satt på vent",
  "entered-in-error": "Registrert ved en feil",
};
const REQUEST = {
  requested: "Mottatt",
  received: "Mottatt",
  accepted: "Under behandling",
  "in-progress": "Under behandling",
  "on-hold": "Under behandling",
  completed: "Ferdig behandlet",
  rejected: "Avslått",
  cancelled: "Avbrutt",
  failed: "Avbrutt",
  "entered-in-error": "Registrert ved en feil",
};
const RESPONSE = {
  "in-progress": "Utkast, ikke sendt inn",
  completed: "Sendt inn",
  amended: "Sendt inn, senere endret",
  stopped: "Avbrutt",
  "entered-in-error": "Registrert ved en feil",
};
const CONSENT = {
  active: "Gjelder",
  inactive: "Trukket tilbake",
  draft: "Ikke ferdig",
  proposed: "Foreslått",
  rejected: "Avslått",
  "entered-in-error": "Registrert ved en feil",
};
const REQUEST_KIND = { correction: "Be om retting", erasure: "Be om sletting" };

const lookup = (table) => (code) => table[code] || "Ukjent status";

export const episodeStatus = lookup(EPISODE);
export const formStatus = lookup(FORM);
export const requestStatus = lookup(REQUEST);
export const responseStatus = lookup(RESPONSE);
export const consentStatus = lookup(CONSENT);
export const requestKindText = (kind) => REQUEST_KIND[kind] || "Henvendelse";
