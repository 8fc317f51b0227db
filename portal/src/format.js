// Dates as Norwegian readers expect them (Europe/Oslo).
const DATE = new Intl.DateTimeFormat("nb-NO", { day: "numeric", month: "long", year: "numeric", timeZone: "Europe/Oslo" });
const DATE_TIME = new Intl.DateTimeFormat("nb-NO", { dateStyle: "long", timeStyle: "short", timeZone: "Europe/Oslo" });

export function formatDate(value) {
  return value ? DATE.format(new Date(value)) : "";
}

export function formatDateTime(value) {
  return value ? DATE_TIME.format(new Date(value)) : "";
}
