// The unit's quality reports (N22) from the server's Organization/[id]/$quality-report: the periods a unit can ask
// for, its Organization (found by the organisation number the staff token names) and a report as HTML or PDF.
import { fhir, matches } from "../api.js";

const ORGNR_SYSTEM = "urn:oid:2.16.578.1.12.4.1.4.101";
const QUARTERS_LISTED = 8;
const YEARS_LISTED = 3;

/** The last completed quarters (newest first) and years, as ``{value: "2026Q3", label: "3. kvartal 2026"}``. */
export function reportPeriods(today = new Date()) {
  let index = today.getFullYear() * 4 + Math.floor(today.getMonth() / 3) - 1; // the last completed quarter
  const quarters = [];
  for (let n = 0; n < QUARTERS_LISTED; n += 1, index -= 1) {
    const year = Math.floor(index / 4);
    const number = (index % 4) + 1;
    quarters.push({ value: `${year}Q${number}`, label: `${number}. kvartal ${year}` });
  }
  const years = [];
  for (let year = today.getFullYear() - 1; years.length < YEARS_LISTED; year -= 1) {
    years.push({ value: String(year), label: `Året ${year}` });
  }
  return { quarters, years };
}

/** The signed-in staff member's unit: its Organization (id, name). */
export async function ownUnit(token, orgnr) {
  const bundle = await fhir("Organization", { token, params: { identifier: `${ORGNR_SYSTEM}|${orgnr}` } });
  const [organization] = matches(bundle);
  if (!organization) throw new Error(`Fant ikke enheten med organisasjonsnummer ${orgnr}.`);
  return organization;
}

function decoded(binary) {
  const raw = atob(binary.data || "");
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

function filename(period, format) {
  return `kvalitetsrapport-${period}.${format}`;
}

/** The report as HTML text. */
export async function reportHtml(token, organizationId, period) {
  const binary = await fhir(`Organization/${encodeURIComponent(organizationId)}/$quality-report`, {
    token,
    params: { period, format: "html" },
  });
  return new TextDecoder("utf-8").decode(decoded(binary));
}

/** The report as a PDF file (a Blob and a file name to save it under). */
export async function reportPdf(token, organizationId, period) {
  const binary = await fhir(`Organization/${encodeURIComponent(organizationId)}/$quality-report`, {
    token,
    params: { period, format: "pdf" },
  });
  return { blob: new Blob([decoded(binary)], { type: "application/pdf" }), name: filename(period, "pdf") };
}
