// A one-time code from the clinic (rule N8): redeemed for a session that opens that one form.
import { useState } from "react";
import { fhir } from "../api.js";
import { newSession } from "../session.js";

function parameter(parameters, name) {
  return (parameters?.parameter || []).find((p) => p.name === name);
}

export default function CodeSignIn({ onSignIn }) {
  const [code, setCode] = useState("");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  async function submit(event) {
    event.preventDefault();
    if (!code.trim()) {
      setError("Skriv inn koden du har fått.");
      return;
    }
    setBusy(true);
    setError(null);
    const body = { resourceType: "Parameters", parameter: [{ name: "code", valueString: code.trim() }] };
    try {
      const answer = await fhir("$redeem-code", { method: "POST", body });
      const task = parameter(answer, "task")?.valueReference?.reference?.split("/")[1];
      onSignIn(
        newSession("tablet", parameter(answer, "access_token")?.valueString, parameter(answer, "expires_in")?.valueInteger, {
          task,
          questionnaire: parameter(answer, "questionnaire")?.valueString,
        }),
      );
    } catch (failed) {
      setError(
        failed.status === 400
          ? "Koden virker ikke. Den kan være skrevet feil, allerede brukt eller utløpt. Spør i resepsjonen om en ny kode."
          : failed.messages?.join(" ") || String(failed),
      );
      setBusy(false);
    }
  }

  return (
    <section className="card" aria-labelledby="kode-tittel">
      <h2 id="kode-tittel">Har du fått en kode på klinikken?</h2>
      <p id="kode-hjelp">Koden har åtte tegn, for eksempel ABCD-EFGH. Den kan brukes én gang.</p>
      <form onSubmit={submit} noValidate>
        <label htmlFor="kode">Engangskode</label>
        <input
          id="kode"
          name="code"
          autoComplete="off"
          autoCapitalize="characters"
          spellCheck={false}
          value={code}
          onChange={(event) => setCode(event.target.value)}
          aria-describedby={error ? "kode-hjelp kode-feil" : "kode-hjelp"}
          aria-invalid={error ? true : undefined}
        />
        {error && (
          <p id="kode-feil" className="field-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          Åpne skjemaet
        </button>
      </form>
    </section>
  );
}
