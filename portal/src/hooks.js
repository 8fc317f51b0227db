import { useEffect, useRef, useState } from "react";
import { messagesOf } from "./components/ErrorAlert.jsx";

/** ``{loading, data, error}`` of an async ``load()``, run again when ``deps`` change (a stale answer is ignored). */
export function useLoad(load, deps) {
  const [state, setState] = useState({ loading: true, data: null, error: null });
  useEffect(() => {
    let live = true;
    setState({ loading: true, data: null, error: null });
    load().then(
      (data) => live && setState({ loading: false, data, error: null }),
      (error) => live && setState({ loading: false, data: null, error }),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  return [state, setState];
}

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
