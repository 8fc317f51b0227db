// The signed-in patient's record, loaded once and refreshed after each change the page makes; a refresh keeps the
// record on screen (and the receipts shown next to it) until the new one has arrived.
import { useCallback, useEffect, useRef, useState } from "react";
import { loadRecord } from "./record.js";

export function useRecord(token) {
  const [state, setState] = useState({ loading: true, record: null, error: null });
  const latest = useRef(0);
  const refresh = useCallback(async () => {
    const call = ++latest.current;
    try {
      const record = await loadRecord(token);
      if (call === latest.current) setState({ loading: false, record, error: null });
    } catch (error) {
      if (call === latest.current) setState((current) => ({ ...current, loading: false, error }));
    }
  }, [token]);
  useEffect(() => {
    refresh();
    return () => {
      latest.current += 1; // an answer arriving after the page is gone is ignored
    };
  }, [refresh]);
  return { ...state, refresh };
}
