// "Slett forløp" (N19, as N11): after a confirmation, the episode becomes entered-in-error; the server's workers
// then withdraw its forms.
import { useEffect, useId, useRef, useState } from "react";
import ErrorAlert from "../../components/ErrorAlert.jsx";
import { deleteEpisode } from "../clinicFhir.js";
import { useWrite } from "../../hooks.js";

export default function DeleteEpisode({ episode, token, onDeleted }) {
  const [asking, setAsking] = useState(false);
  const question = useRef(null);
  const opener = useRef(null);
  const questionId = useId();
  const { busy, failure, alert, run } = useWrite();

  useEffect(() => {
    if (asking) question.current?.focus();
  }, [asking]);

  async function confirm() {
    const deleted = await run("delete", () => deleteEpisode(token, episode));
    if (deleted) onDeleted(deleted);
  }
  function cancel() {
    setAsking(false);
    setTimeout(() => opener.current?.focus());
  }

  if (!asking) {
    return (
      <button type="button" className="danger" ref={opener} onClick={() => setAsking(true)}>
        Slett forløp
      </button>
    );
  }
  return (
    <div className="confirm" role="group" aria-labelledby={questionId}>
      {failure && <ErrorAlert ref={alert} title="Forløpet ble ikke slettet" messages={failure.messages} />}
      <p id={questionId} ref={question} tabIndex={-1}>
        Vil du slette forløpet? Pasientens skjema i forløpet trekkes tilbake, og forløpet telles ikke med i
        registeret. Gjør dette når pasienten ikke vil delta.
      </p>
      <div className="actions">
        <button type="button" className="danger" disabled={busy} onClick={confirm}>
          Ja, slett forløpet
        </button>
        <button type="button" disabled={busy} onClick={cancel}>
          Avbryt
        </button>
      </div>
    </div>
  );
}
