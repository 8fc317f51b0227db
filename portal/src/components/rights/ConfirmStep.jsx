// A confirmation before a change that cannot simply be undone: the question takes the focus, then "yes" or
// "cancel" (Escape cancels too).
import { useEffect, useId, useRef } from "react";

export default function ConfirmStep({ question, detail, confirmText, busy, onConfirm, onCancel }) {
  const id = useId();
  const heading = useRef(null);
  useEffect(() => heading.current?.focus(), []);
  return (
    <div
      className="rights-confirm"
      role="group"
      aria-labelledby={id}
      onKeyDown={(event) => event.key === "Escape" && onCancel()}
    >
      <p id={id} ref={heading} tabIndex={-1} className="rights-confirm-question">
        {question}
      </p>
      {detail && <p>{detail}</p>}
      <div className="actions">
        <button type="button" className="primary" disabled={busy} onClick={onConfirm}>
          {confirmText}
        </button>
        <button type="button" className="link-button rights-cancel" onClick={onCancel}>
          Avbryt
        </button>
      </div>
    </div>
  );
}
