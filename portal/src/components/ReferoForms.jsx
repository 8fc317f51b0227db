// The forms in Helsenorge's renderer (refero), loaded only when a form opens: filling one in (save as a draft,
// send) and showing a sent one read-only. Each render has its own refero store, as refero's own tests do.
import { useMemo, useState } from "react";
import { Provider } from "react-redux";
import { Refero, store as makeStore } from "@helsenorge/refero";
import { writeResponse } from "../api.js";
import { responseToSend } from "../fhir.js";
import { formatDateTime } from "../format.js";
import { useWrite } from "../hooks.js";
import { RESOURCES } from "../resources.js";
import ErrorAlert from "./ErrorAlert.jsx";

const NO_LOGIN = <></>;

function Form(props) {
  const store = useMemo(() => makeStore(), []);
  return (
    <Provider store={store}>
      <Refero authorized={true} loginButton={NO_LOGIN} resources={RESOURCES} language="nb-NO" {...props} />
    </Provider>
  );
}

/** The form to fill in; ``draft``: a saved draft to go on with. ``onSent(response)`` once it is sent. */
export function FormStep({ task, questionnaire, draft, token, onSent, onCancel }) {
  const [responseId, setResponseId] = useState(draft?.id || null);
  const [savedAt, setSavedAt] = useState(null);
  const { busy, failure, alert, run } = useWrite();

  async function write(answers, status) {
    const body = responseToSend({ answers, questionnaire, task, status, id: responseId });
    const written = await run(status, () => writeResponse(token, body));
    if (!written) return;
    setResponseId(written.id);
    if (status === "completed") onSent(written);
    else setSavedAt(written.meta?.lastUpdated || new Date().toISOString());
  }

  return (
    <>
      {failure && (
        <ErrorAlert
          ref={alert}
          title={failure.status === "completed" ? "Skjemaet ble ikke sendt" : "Utkastet ble ikke lagret"}
          messages={failure.messages}
        />
      )}
      <p className="save-status" role="status">
        {busy ? "Lagrer …" : savedAt ? `Utkastet ble lagret ${formatDateTime(savedAt)}.` : ""}
      </p>
      <Form
        questionnaire={questionnaire}
        questionnaireResponse={draft || undefined}
        syncQuestionnaireResponse={Boolean(draft)}
        onSave={(answers) => write(answers, "in-progress")}
        onSubmit={(answers) => write(answers, "completed")}
        onCancel={onCancel}
        submitButtonDisabled={busy}
        saveButtonDisabled={busy}
      />
    </>
  );
}

/** A sent response, read-only. */
export function ResponseView({ questionnaire, response }) {
  return (
    <Form
      pdf={true}
      questionnaire={questionnaire}
      questionnaireResponse={response}
      onSubmit={() => {}}
      onSave={() => {}}
      onCancel={() => {}}
    />
  );
}
