// Errors as a labelled alert listing each message (a server's OperationOutcome: one line per issue).
import { useId } from "react";

export default function ErrorAlert({ title, messages, ref }) {
  const id = useId();
  return (
    <div className="alert" role="alert" aria-labelledby={id} tabIndex={-1} ref={ref}>
      <h2 id={id}>{title}</h2>
      <ul>
        {messages.map((message, index) => (
          <li key={index}>{message}</li>
        ))}
      </ul>
    </div>
  );
}

/** The messages of an error thrown by api.js (or any other). */
export function messagesOf(error) {
  return error?.messages?.length ? error.messages : [String(error?.message || error)];
}
