// R4, "Reservere deg mot spørreskjema": whether the patient has opted out of further questionnaires, and a button
// to opt out (an active reservation Consent) or to cancel it (the reservation set to inactive).
import { useState } from "react";
import { formatDate } from "../../format.js";
import ErrorAlert, { messagesOf } from "../ErrorAlert.jsx";
import { reserve, setInactive } from "./actions.js";
import { consentDate } from "./record.js";

export default function Reservation({ token, record, onChange }) {
  const active = record.reservations.filter((c) => c.status === "active");
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState(null);
  const [done, setDone] = useState(null);

  async function change(what, message) {
    setBusy(true);
    setFailure(null);
    setDone(null);
    try {
      await what();
      await onChange();
      setDone(message);
    } catch (error) {
      setFailure(error);
    } finally {
      setBusy(false);
    }
  }

  const optOut = () => change(() => reserve({ token, patientId: record.patientId }), "Reservasjonen er registrert.");
  const cancel = () =>
    change(
      () => Promise.all(active.map((consent) => setInactive({ token, consent }))),
      "Reservasjonen er opphevet.",
    );

  return (
    <div className="rights-reservation">
      {failure && <ErrorAlert title="Reservasjonen ble ikke endret" messages={messagesOf(failure)} />}
      <p role="status" className={done ? "receipt" : undefined}>
        {done ? `${done} ` : ""}
        {active.length > 0 ? (
          <>
            <strong>Du har reservert deg</strong> mot spørreskjema fra{" "}
            <time dateTime={consentDate(active[0])}>{formatDate(consentDate(active[0]))}</time>.
          </>
        ) : (
          <>
            <strong>Du har ikke reservert deg.</strong> Du kan få spørreskjema fra registrene du er registrert i.
          </>
        )}
      </p>
      {active.length > 0 ? (
        <button type="button" className="primary" disabled={busy} onClick={cancel}>
          Opphev reservasjonen
        </button>
      ) : (
        <button type="button" className="primary" disabled={busy} onClick={optOut}>
          Reserver meg mot spørreskjema
        </button>
      )}
    </div>
  );
}
