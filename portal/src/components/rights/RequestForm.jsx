// A request to the registry with the patient's own words (a labelled text field): sent as $request-correction or
// $request-erasure; a receipt when it has arrived, the server's messages when it has not.
import { useEffect, useId, useRef, useState } from "react";
import { formatDateTime } from "../../format.js";
import ErrorAlert, { messagesOf } from "../ErrorAlert.jsx";
import { sendRequest } from "./actions.js";

const MAX_LENGTH = 4000;

export default function RequestForm({
  token,
  patientId,
  operation,
  label,
  hint,
  required,
  submitText,
  receiptText,
  onSent,
}) {
  const id = useId();
  const [text, setText] = useState("");
  const [missing, setMissing] = useState(false);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState(null);
  const [receipt, setReceipt] = useState(null);
  const field = useRef(null);
  const alert = useRef(null);
  const done = useRef(null);
  useEffect(() => alert.current?.focus(), [failure]);
  useEffect(() => done.current?.focus(), [receipt]);

  async function submit(event) {
    event.preventDefault();
    if (required && !text.trim()) {
      setMissing(true);
      field.current?.focus();
      return;
    }
    setBusy(true);
    setFailure(null);
    try {
      const task = await sendRequest({ token, patientId, operation, text: text.trim() });
      setReceipt(task);
      setText("");
      onSent?.(task);
    } catch (error) {
      setFailure(error);
    } finally {
      setBusy(false);
    }
  }

  if (receipt) {
    return (
      <div className="receipt" role="status" tabIndex={-1} ref={done}>
        <p>
          <strong>{receiptText}</strong> Vi mottok henvendelsen din {formatDateTime(receipt.authoredOn)}. Du finner
          den under «Dine henvendelser», der du kan følge med på hvordan den blir behandlet.
        </p>
        <button type="button" className="link-button" onClick={() => setReceipt(null)}>
          Skriv en ny henvendelse
        </button>
      </div>
    );
  }
  const describedBy = [`${id}-hint`, missing ? `${id}-error` : null].filter(Boolean).join(" ");
  return (
    <form onSubmit={submit} noValidate className="rights-form">
      {failure && <ErrorAlert ref={alert} title="Henvendelsen ble ikke sendt" messages={messagesOf(failure)} />}
      <label htmlFor={id}>
        {label} {required ? "(påkrevd)" : "(valgfritt)"}
      </label>
      <p id={`${id}-hint`} className="muted rights-hint">
        {hint}
      </p>
      <textarea
        id={id}
        ref={field}
        rows={5}
        maxLength={MAX_LENGTH}
        value={text}
        onChange={(event) => {
          setText(event.target.value);
          if (event.target.value.trim()) setMissing(false);
        }}
        aria-required={required ? "true" : undefined}
        aria-invalid={missing ? true : undefined}
        aria-describedby={describedBy}
      />
      {missing && (
        <p id={`${id}-error`} className="field-error" role="alert">
          Skriv hva som er feil, og hva det skal være.
        </p>
      )}
      <button type="submit" className="primary" disabled={busy}>
        {submitText}
      </button>
    </form>
  );
}
