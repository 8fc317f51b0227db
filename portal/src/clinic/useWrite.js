import { useEffect, useRef, useState } from "react";
import { messagesOf } from "../components/ErrorAlert.jsx";

/** A write the user started: ``busy`` while it runs, its ``failure`` (the server's messages, with the status it
 * tried to write) and a ``ref`` for the alert, which takes the focus when a failure is shown. */
export function useWrite() {
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState(null);
  const alert = useRef(null);
  useEffect(() => {
    if (failure) alert.current?.focus();
  }, [failure]);

  async function run(status, action) {
    setBusy(true);
    setFailure(null);
    try {
      return await action();
    } catch (error) {
      setFailure({ status, messages: messagesOf(error) });
      return null;
    } finally {
      setBusy(false);
    }
  }
  return { busy, failure, alert, run };
}
