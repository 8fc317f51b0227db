// The rights page's sorting of a patient's $everything Bundle: what is a form and what a request, whose answers are
// the patient's own, which consents are registry consents and which a reservation.
import { describe, expect, it } from "vitest";
import { reservationFor } from "../src/components/rights/actions.js";
import { sortRecord } from "../src/components/rights/record.js";

const patient = { reference: "Patient/p1" };
const entry = (resource) => ({ resource, search: { mode: "match" } });
const bundle = {
  resourceType: "Bundle",
  type: "searchset",
  entry: [
    entry({ resourceType: "Patient", id: "p1" }),
    entry({ resourceType: "Task", id: "form", status: "ready", for: patient }),
    entry({
      resourceType: "Task",
      id: "request",
      status: "requested",
      for: patient,
      code: { coding: [{ system: "https://ryggrad.no/fhir/CodeSystem/patient-request", code: "correction" }] },
    }),
    entry({ resourceType: "QuestionnaireResponse", id: "mine", status: "completed", subject: patient, author: patient }),
    entry({ resourceType: "QuestionnaireResponse", id: "clinic", status: "in-progress", subject: patient }),
    entry({
      resourceType: "Consent",
      id: "consent",
      status: "active",
      patient,
      category: [{ coding: [{ system: "http://loinc.org", code: "59284-0" }] }],
    }),
    entry({ ...reservationFor("p1", new Date("2026-01-01T00:00:00Z")), id: "reservation" }),
    entry({ resourceType: "Observation", id: "obs", status: "final" }),
  ],
};

describe("sortRecord", () => {
  const ids = (list) => list.map((r) => r.id);
  const record = sortRecord(bundle);

  it("finds the patient and tells forms from requests", () => {
    expect(record.patientId).toBe("p1");
    expect(ids(record.forms)).toEqual(["form"]);
    expect(ids(record.requests)).toEqual(["request"]);
  });

  it("tells the patient's answers from the clinic's forms", () => {
    expect(ids(record.responses)).toEqual(["mine"]);
    expect(ids(record.clinicForms)).toEqual(["clinic"]);
  });

  it("tells registry consents from the reservation, and counts the rest", () => {
    expect(ids(record.consents)).toEqual(["consent"]);
    expect(ids(record.reservations)).toEqual(["reservation"]);
    expect(ids(record.others)).toEqual(["obs"]);
  });
});

describe("reservationFor", () => {
  it("is the reservation Consent the workers read (R4)", () => {
    const consent = reservationFor("p1");
    expect(consent.status).toBe("active");
    expect(consent.patient).toEqual(patient);
    expect(consent.provision).toEqual({ type: "deny" });
    expect(consent.category[0].coding[0]).toEqual({
      system: "https://ryggrad.no/fhir/CodeSystem/registry-exclusion",
      code: "reservation",
    });
  });
});
