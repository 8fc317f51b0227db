// R3, "Trekk samtykket": each registry the patient has consented to, with a button that (after a confirmation)
// sets the consent to inactive. Withdrawing does not erase what is registered; that is a request of its own.
import { useRef, useState } from "react";
import { formatDate } from "../../format.js";
import { registryInfo } from "../../registries.js";
import ErrorAlert, { messagesOf } from "../ErrorAlert.jsx";
import { setInactive } from "./actions.js";
import ConfirmStep from "./ConfirmStep.jsx";
import { consentDate, registryCode } from "./record.js";

function ConsentItem({ consent, token, onChange }) {
  const name = registryInfo(registryCode(consent)).name;
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState(null);
  const button = useRef(null);

  async function withdraw() {
    setBusy(true);
    setFailure(null);
    try {
      await setInactive({ token, consent });
      await onChange({ withdrawn: name });
    } catch (error) {
      setFailure(error);
      setBusy(false);
      setConfirming(false);
    }
  }

  return (
    <li className="card">
      <h3>{name}</h3>
      {consentDate(consent) && (
        <p>
          Samtykke gitt <time dateTime={consentDate(consent)}>{formatDate(consentDate(consent))}</time>.
        </p>
      )}
      {failure && <ErrorAlert title="Samtykket ble ikke trukket" messages={messagesOf(failure)} />}
      {confirming ? (
        <ConfirmStep
          question={`Vil du trekke samtykket til ${name}?`}
          detail={
            "Da blir det ikke registrert flere opplysninger om deg, og du får ikke flere skjema fra registeret. " +
            "Det som allerede er registrert, blir liggende til du ber om sletting."
          }
          confirmText="Ja, trekk samtykket"
          busy={busy}
          onConfirm={withdraw}
          onCancel={() => {
            setConfirming(false);
            setTimeout(() => button.current?.focus());
          }}
        />
      ) : (
        <button type="button" className="primary" ref={button} onClick={() => setConfirming(true)}>
          Trekk samtykket
        </button>
      )}
    </li>
  );
}

export default function ConsentWithdrawal({ token, record, onChange }) {
  const [withdrawn, setWithdrawn] = useState(null);
  const active = record.consents.filter((c) => c.status === "active");

  async function changed({ withdrawn: name }) {
    setWithdrawn(name);
    await onChange();
  }

  return (
    <>
      <h3>Dine samtykker</h3>
      {withdrawn && (
        <p className="receipt" role="status">
          Samtykket til {withdrawn} er trukket.
        </p>
      )}
      {active.length === 0 ? (
        <p>Du har ingen samtykker som gjelder nå.</p>
      ) : (
        <ul className="rights-consents">
          {active.map((consent) => (
            <ConsentItem key={consent.id} consent={consent} token={token} onChange={changed} />
          ))}
        </ul>
      )}
    </>
  );
}
