// How the clinic pages write: the clinician form over the booking-time draft (N5) it reuses, the short baseline
// (P6) based on the baseline Task, and when the short baseline can be given.
import { describe, expect, it } from "vitest";
import { clinicianResponseToWrite, shortBaselineOpen, shortBaselineToSend } from "../src/clinic/clinicFhir.js";

const QUESTIONNAIRE = { url: "https://ryggrad.no/fhir/Questionnaire/nnrr-clinician", version: "1.0.0" };
const EPISODE = { resourceType: "EpisodeOfCare", id: "ep1", patient: { reference: "Patient/p1" } };
const DRAFT = {
  resourceType: "QuestionnaireResponse",
  id: "draft1",
  meta: { versionId: "1", lastUpdated: "2026-12-01T10:00:00Z", profile: ["p"], security: [{ system: "s", code: "c" }] },
  extension: [{ url: "https://ryggrad.no/fhir/StructureDefinition/episode", valueReference: { reference: "EpisodeOfCare/ep1" } }],
  questionnaire: "https://ryggrad.no/fhir/Questionnaire/nnrr-clinician|1.0.0",
  status: "in-progress",
  subject: { reference: "Patient/p1" },
};
const ANSWERS = {
  resourceType: "QuestionnaireResponse",
  item: [{ linkId: "visit-date", answer: [{ valueDate: "2026-12-07", initialSelected: true }] }],
};

describe("the clinician form", () => {
  it("is written over the N5 draft, keeping its id, episode, profile and labels", () => {
    const author = { reference: "Practitioner/pr1" };
    const written = clinicianResponseToWrite({
      answers: ANSWERS,
      base: DRAFT,
      questionnaire: QUESTIONNAIRE,
      episode: EPISODE,
      registry: "nnrr",
      author,
      status: "completed",
    });
    expect(written.id).toBe("draft1");
    expect(written.meta).toEqual({ profile: ["p"], security: [{ system: "s", code: "c" }] });
    expect(written.extension).toEqual(DRAFT.extension);
    expect(written.status).toBe("completed");
    expect(written.author).toEqual(author);
    expect(written.subject).toEqual({ reference: "Patient/p1" });
    expect(written.item).toEqual([{ linkId: "visit-date", answer: [{ valueDate: "2026-12-07" }] }]);
  });

  it("is a new response on the episode when there is no draft", () => {
    const written = clinicianResponseToWrite({
      answers: {},
      base: null,
      questionnaire: QUESTIONNAIRE,
      episode: EPISODE,
      registry: "nnrr",
      author: null,
      status: "in-progress",
    });
    expect(written.id).toBeUndefined();
    expect(written.author).toBeUndefined();
    expect(written.item).toBeUndefined();
    expect(written.questionnaire).toBe("https://ryggrad.no/fhir/Questionnaire/nnrr-clinician|1.0.0");
    expect(written.extension.map((e) => e.url)).toEqual([
      "https://ryggrad.no/fhir/StructureDefinition/registry",
      "https://ryggrad.no/fhir/StructureDefinition/episode",
    ]);
  });
});

describe("the short baseline (P6)", () => {
  const task = { id: "t1", status: "ready", for: { reference: "Patient/p1" } };

  it("can be given for an OPR episode whose baseline is open and unanswered", () => {
    expect(shortBaselineOpen({ registry: "opr", baseline: task, answered: null })).toBe(true);
    expect(shortBaselineOpen({ registry: "opr", baseline: { ...task, status: "completed" }, answered: null })).toBe(false);
    expect(shortBaselineOpen({ registry: "opr", baseline: task, answered: { id: "r" } })).toBe(false);
    expect(shortBaselineOpen({ registry: "nnrr", baseline: task, answered: null })).toBe(false);
  });

  it("is sent completed, based on the baseline Task", () => {
    const sent = shortBaselineToSend({
      answers: { ...ANSWERS, id: "x", meta: { versionId: "2" } },
      questionnaire: { url: "https://ryggrad.no/fhir/Questionnaire/opr-short-baseline", version: "1.0.0" },
      task,
    });
    expect(sent.basedOn).toEqual([{ reference: "Task/t1" }]);
    expect(sent.status).toBe("completed");
    expect(sent.subject).toEqual({ reference: "Patient/p1" });
    expect(sent.id).toBeUndefined();
    expect(sent.meta).toBeUndefined();
    expect(JSON.stringify(sent)).not.toContain("initialSelected");
  });
});

describe("an Oslo day", () => {
  it("is bounded by Oslo's midnights, summer and winter", async () => {
    const { osloDayBounds } = await import("../src/clinic/osloDates.js");
    expect(osloDayBounds("2026-12-07")).toEqual(["2026-12-07T00:00:00+01:00", "2026-12-08T00:00:00+01:00"]);
    expect(osloDayBounds("2026-07-01")).toEqual(["2026-07-01T00:00:00+02:00", "2026-07-02T00:00:00+02:00"]);
    expect(osloDayBounds("2026-03-28")).toEqual(["2026-03-28T00:00:00+01:00", "2026-03-29T00:00:00+01:00"]);
    expect(osloDayBounds("2026-03-29")).toEqual(["2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00"]);
    expect(osloDayBounds("2026-10-25")).toEqual(["2026-10-25T00:00:00+02:00", "2026-10-26T00:00:00+01:00"]);
  });
});
