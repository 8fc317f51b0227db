// The front page without a session. In development mode only: a staff sign-in with an HPR number and the unit's
// organisation number, standing in for HelseID.
import { useEffect, useId, useState } from "react";
import { request } from "../../api.js";
import Heading from "../../components/Heading.jsx";
import { newStaffSession } from "../staffSession.js";

function check({ hpr, org }) {
  const errors = {};
  if (!/^[1-9]\d{3,8}$/.test(hpr)) errors.hpr = "HPR-nummeret må ha 4 til 9 siffer.";
  if (!/^\d{9}$/.test(org)) errors.org = "Organisasjonsnummeret må ha 9 siffer.";
  return errors;
}

function Field({ id, label, value, onChange, error, help }) {
  const errorId = `${id}-feil`;
  return (
    <>
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        name={id}
        inputMode="numeric"
        autoComplete="off"
        value={value}
        onChange={(event) => onChange(event.target.value)}
        aria-describedby={[help, error && errorId].filter(Boolean).join(" ") || undefined}
        aria-invalid={error ? true : undefined}
      />
      {error && (
        <p id={errorId} className="field-error">
          {error}
        </p>
      )}
    </>
  );
}

function DevStaffSignIn({ onSignIn }) {
  const [form, setForm] = useState({ role: "clinician", hpr: "", org: "" });
  const [errors, setErrors] = useState({});
  const [failure, setFailure] = useState(null);
  const [busy, setBusy] = useState(false);
  const helpId = useId();
  const set = (name) => (value) => setForm((current) => ({ ...current, [name]: value }));

  async function submit(event) {
    event.preventDefault();
    const values = { role: form.role, hpr: form.hpr.replace(/\s/g, ""), org: form.org.replace(/\s/g, "") };
    const found = check(values);
    setErrors(found);
    setFailure(null);
    if (Object.keys(found).length) {
      document.getElementById(found.hpr ? "hpr" : "orgnr")?.focus();
      return;
    }
    setBusy(true);
    try {
      const answer = await request("/auth/dev/token", { method: "POST", body: values });
      onSignIn(newStaffSession(values, answer));
    } catch (failed) {
      setFailure(failed.messages?.join(" ") || String(failed));
      setBusy(false);
    }
  }

  return (
    <section className="card" aria-labelledby="dev-tittel">
      <h2 id="dev-tittel">Logg inn (utviklingsmodus)</h2>
      <p id={helpId}>Denne innloggingen finnes bare på en utviklingsserver. Bruk syntetiske opplysninger.</p>
      <form onSubmit={submit} noValidate>
        <fieldset>
          <legend>Rolle</legend>
          {[
            ["clinician", "Behandler"],
            ["clerk", "Merkantil"],
          ].map(([value, text]) => (
            <div className="check" key={value}>
              <input
                type="radio"
                id={`rolle-${value}`}
                name="rolle"
                value={value}
                checked={form.role === value}
                onChange={() => set("role")(value)}
              />
              <label htmlFor={`rolle-${value}`}>{text}</label>
            </div>
          ))}
        </fieldset>
        <Field id="hpr" label="HPR-nummer" value={form.hpr} onChange={set("hpr")} error={errors.hpr} help={helpId} />
        <Field
          id="orgnr"
          label="Enhetens organisasjonsnummer (9 siffer)"
          value={form.org}
          onChange={set("org")}
          error={errors.org}
        />
        {failure && (
          <p className="field-error" role="alert">
            Innloggingen ble avvist: {failure}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          Logg inn
        </button>
      </form>
    </section>
  );
}

export default function StaffSignIn({ onSignIn, notice }) {
  const [devLogin, setDevLogin] = useState(false);
  useEffect(() => {
    request("/clinic/config.json").then(
      (config) => setDevLogin(Boolean(config?.devLogin)),
      () => setDevLogin(false),
    );
  }, []);
  return (
    <>
      <Heading title="Logg inn">Registerskjema for klinikken</Heading>
      <p className="lead">Arbeidslister, pasientens svar og behandlerskjema for enheten din.</p>
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      {devLogin ? (
        <DevStaffSignIn onSignIn={onSignIn} />
      ) : (
        <section className="card" aria-labelledby="helseid-tittel">
          <h2 id="helseid-tittel">Logg inn</h2>
          <p>Innlogging med HelseID kommer senere.</p>
        </section>
      )}
    </>
  );
}
