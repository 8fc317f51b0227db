// Calendar days and times of day in Europe/Oslo, whatever the browser's own time zone.
const DAY = new Intl.DateTimeFormat("en-CA", { year: "numeric", month: "2-digit", day: "2-digit", timeZone: "Europe/Oslo" });
const TIME = new Intl.DateTimeFormat("nb-NO", { hour: "2-digit", minute: "2-digit", timeZone: "Europe/Oslo" });

/** ``YYYY-MM-DD`` of ``moment`` in Oslo. */
export function osloDay(moment = new Date()) {
  return DAY.format(moment);
}

/** ``HH:MM`` of a FHIR instant in Oslo. */
export function osloTime(value) {
  return value ? TIME.format(new Date(value)) : "";
}

/** "1 dag", "12 dager". */
export function days(count) {
  return count === 1 ? "1 dag" : `${count} dager`;
}
