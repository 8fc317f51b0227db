// Development mode only: a patient token for a national identity number from the server's development issuer.
import { useState } from "react";
import { request } from "../api.js";
import { newSession } from "../session.js";

export default function DevSignIn({ onSignIn }) {
  const [pid, setPid] = useState("");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  async function submit(event) {
    event.preventDefault();
    const digits = pid.replace(/\s/g, "");
    if (!/^\d{11}$/.test(digits)) {
      setError("Fødselsnummeret må ha 11 siffer.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const answer = await request("/auth/dev/token", { method: "POST", body: { role: "patient", pid: digits } });
      onSignIn(newSession("patient", answer.access_token, answer.expires_in));
    } catch (failed) {
      setError(failed.status === 400 ? "Fødselsnummeret er ikke gyldig." : failed.messages?.join(" ") || String(failed));
      setBusy(false);
    }
  }

  return (
    <section className="card" aria-labelledby="dev-tittel">
      <h2 id="dev-tittel">Logg inn (utviklingsmodus)</h2>
      <p id="dev-hjelp">Denne innloggingen finnes bare på en utviklingsserver. Bruk et syntetisk fødselsnummer.</p>
      <form onSubmit={submit} noValidate>
        <label htmlFor="fnr">Fødselsnummer (11 siffer)</label>
        <input
          id="fnr"
          name="fnr"
          inputMode="numeric"
          autoComplete="off"
          value={pid}
          onChange={(event) => setPid(event.target.value)}
          aria-describedby={error ? "dev-hjelp fnr-feil" : "dev-hjelp"}
          aria-invalid={error ? true : undefined}
        />
        {error && (
          <p id="fnr-feil" className="field-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          Logg inn
        </button>
      </form>
    </section>
  );
}
