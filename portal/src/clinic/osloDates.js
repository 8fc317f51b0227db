// Calendar days and times of day in Europe/Oslo, whatever the browser's own time zone.
const DAY = new Intl.DateTimeFormat("en-CA", { year: "numeric", month: "2-digit", day: "2-digit", timeZone: "Europe/Oslo" });
const TIME = new Intl.DateTimeFormat("nb-NO", { hour: "2-digit", minute: "2-digit", timeZone: "Europe/Oslo" });

/** ``YYYY-MM-DD`` of ``moment`` in Oslo. */
export function osloDay(moment = new Date()) {
  return DAY.format(moment);
}

const OFFSET = new Intl.DateTimeFormat("en-US", { timeZone: "Europe/Oslo", timeZoneName: "longOffset" });

/** Oslo's UTC offset (``+01:00``, ``+02:00``) at ``moment``. */
function osloOffset(moment) {
  const name = OFFSET.formatToParts(moment).find((part) => part.type === "timeZoneName")?.value || "GMT+01:00";
  return name === "GMT" ? "+00:00" : name.slice(3);
}

function osloMidnight(day) {
  const guess = osloOffset(new Date(`${day}T12:00:00Z`));
  return `${day}T00:00:00${osloOffset(new Date(`${day}T00:00:00${guess}`))}`; // DST turns at night: ask again
}

/** The Oslo calendar day ``day`` (YYYY-MM-DD) as ``[start, end)`` FHIR dateTimes with Oslo's offset (the server
 * takes a date without a zone as UTC). */
export function osloDayBounds(day) {
  const next = new Date(new Date(`${day}T12:00:00Z`).getTime() + 24 * 3600 * 1000).toISOString().slice(0, 10);
  return [osloMidnight(day), osloMidnight(next)];
}

/** ``HH:MM`` of a FHIR instant in Oslo. */
export function osloTime(value) {
  return value ? TIME.format(new Date(value)) : "";
}

/** "1 dag", "12 dager". */
export function days(count) {
  return count === 1 ? "1 dag" : `${count} dager`;
}
