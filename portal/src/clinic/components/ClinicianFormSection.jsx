// The clinician form of an episode (behandlerskjema): the booking-time draft (N5) filled in and saved as a draft
// ("Lagre kladd", N14) or finalised ("Ferdigstill", N15, N16), the server's objections listed above the form. A
// finalised form is shown read-only. Only a clinician writes it.
import { lazy, Suspense, useRef, useState } from "react";
import ErrorAlert from "../../components/ErrorAlert.jsx";
import { FINAL_RESPONSE } from "../../fhir.js";
import { formatDateTime } from "../../format.js";
import { writeResponse } from "../../api.js";
import { clinicianResponseToWrite, practitionerByHpr } from "../clinicFhir.js";
import { useWrite } from "../../hooks.js";
import AnswerSummary from "./AnswerSummary.jsx";

const ClinicReferoForm = lazy(() => import("./ClinicReferoForm.jsx"));

export default function ClinicianFormSection({ state, session }) {
  const { token } = session;
  const { episode, registry, clinicianForm: questionnaire } = state;
  const [response, setResponse] = useState(state.clinician);
  const [initial] = useState(state.clinician); // the renderer starts from it once and keeps its own answers after
  const [savedAt, setSavedAt] = useState(null);
  const author = useRef(undefined);
  const { busy, failure, alert, run } = useWrite();

  if (response && FINAL_RESPONSE.includes(response.status)) {
    return (
      <>
        <p className="notice" role="status">
          Behandlerskjemaet er ferdigstilt{response.authored ? ` ${formatDateTime(response.authored)}` : ""}.
        </p>
        <AnswerSummary questionnaire={questionnaire} response={response} />
      </>
    );
  }
  if (session.role !== "clinician") return <p>Behandlerskjemaet fylles ut av behandler.</p>;

  async function write(answers, status) {
    const written = await run(status, async () => {
      if (author.current === undefined) author.current = await practitionerByHpr(token, session.hpr);
      const body = clinicianResponseToWrite({
        answers,
        base: response,
        questionnaire,
        episode,
        registry,
        author: author.current,
        status,
      });
      return writeResponse(token, body);
    });
    if (!written) return;
    setResponse(written);
    if (status === "in-progress") setSavedAt(written.meta?.lastUpdated || new Date().toISOString());
  }

  return (
    <>
      {failure && (
        <ErrorAlert
          ref={alert}
          title={failure.status === "completed" ? "Skjemaet ble ikke ferdigstilt" : "Kladden ble ikke lagret"}
          messages={failure.messages}
        />
      )}
      <p className="save-status" role="status">
        {busy ? "Lagrer …" : savedAt ? `Kladden ble lagret ${formatDateTime(savedAt)}.` : ""}
      </p>
      <Suspense fallback={<p role="status">Laster skjemaet …</p>}>
        <ClinicReferoForm
          questionnaire={questionnaire}
          response={initial}
          busy={busy}
          onWrite={write}
          saveText="Lagre kladd"
          finishText="Ferdigstill"
        />
      </Suspense>
    </>
  );
}
