// The forms in Helsenorge's renderer (refero), loaded only when a form opens: filling one in (save as a draft,
// send) and showing a sent one read-only. Each render has its own refero store, as refero's own tests do.
import { useEffect, useMemo, useRef, useState } from "react";
import { Provider } from "react-redux";
import { Refero, store as makeStore } from "@helsenorge/refero";
import { fhir } from "../api.js";
import { responseToSend } from "../fhir.js";
import { formatDateTime } from "../format.js";
import { RESOURCES } from "../resources.js";
import ErrorAlert, { messagesOf } from "./ErrorAlert.jsx";

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
  const [failure, setFailure] = useState(null);
  const [savedAt, setSavedAt] = useState(null);
  const [busy, setBusy] = useState(false);
  const alert = useRef(null);

  useEffect(() => {
    if (failure) alert.current?.focus();
  }, [failure]);

  async function write(answers, status) {
    setBusy(true);
    setFailure(null);
    const body = responseToSend({ answers, questionnaire, task, status, id: responseId });
    try {
      const written = responseId
        ? await fhir(`QuestionnaireResponse/${responseId}`, { method: "PUT", token, body })
        : await fhir("QuestionnaireResponse", { method: "POST", token, body });
      setResponseId(written.id);
      if (status === "completed") onSent(written);
      else setSavedAt(written.meta?.lastUpdated || new Date().toISOString());
    } catch (error) {
      setFailure({ status, messages: messagesOf(error) });
    } finally {
      setBusy(false);
    }
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
