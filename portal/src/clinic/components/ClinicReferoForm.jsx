// A registry form in Helsenorge's renderer (refero) for the clinic, loaded only when a form opens: the clinic's own
// buttons ("Lagre kladd", "Ferdigstill") take the answers from the renderer's store and leave the checking to the
// server, which names every missing mandatory field (N15) and the registry's other rules (N14, N16).
import { useMemo } from "react";
import { Provider } from "react-redux";
import { Refero, store as makeStore } from "@helsenorge/refero";
import { RESOURCES } from "../../resources.js";

const NO_LOGIN = <></>;
const nothing = () => {};
// refero stores a typed text answer 250 ms after the last key: the buttons wait a little longer before reading
const TYPING_SETTLES_MS = 350;

/** ``onWrite(answers, status)``: ``in-progress`` from ``saveText``'s button (none without it), ``completed`` from
 * ``finishText``'s. */
export default function ClinicReferoForm({ questionnaire, response, busy, onWrite, saveText, finishText }) {
  const store = useMemo(() => makeStore(), []);
  async function press(status) {
    await new Promise((resolve) => setTimeout(resolve, TYPING_SETTLES_MS));
    onWrite(store.getState().refero?.form?.FormData?.Content || {}, status);
  }
  return (
    <Provider store={store}>
      <Refero
        authorized={true}
        loginButton={NO_LOGIN}
        resources={RESOURCES}
        language="nb-NO"
        questionnaire={questionnaire}
        questionnaireResponse={response || undefined}
        syncQuestionnaireResponse={Boolean(response)}
        onSubmit={nothing}
        onSave={nothing}
        renderCustomActionButtons={() => (
          <div className="actions clinic-actions">
            {saveText && (
              <button type="button" disabled={busy} onClick={() => press("in-progress")}>
                {saveText}
              </button>
            )}
            <button type="button" className="primary" disabled={busy} onClick={() => press("completed")}>
              {finishText}
            </button>
          </div>
        )}
      />
    </Provider>
  );
}
