// Consent before the form, for a registry that requires it: what is recorded and why, and a mandatory checkbox
// (continuing without it only says what is missing); research use is a separate, optional choice.
import { useRef, useState } from "react";
import { registryInfo } from "../registries.js";
import { Link } from "../router.jsx";
import ErrorAlert, { messagesOf } from "./ErrorAlert.jsx";
import Heading from "./Heading.jsx";

export default function ConsentStep({ registry, onAccept, cancelTo }) {
  const { name } = registryInfo(registry);
  const [agreed, setAgreed] = useState(false);
  const [research, setResearch] = useState(false);
  const [missing, setMissing] = useState(false);
  const [failure, setFailure] = useState(null);
  const [busy, setBusy] = useState(false);
  const checkbox = useRef(null);

  async function submit(event) {
    event.preventDefault();
    if (!agreed) {
      setMissing(true);
      checkbox.current?.focus();
      return;
    }
    setBusy(true);
    setFailure(null);
    try {
      await onAccept(research);
    } catch (error) {
      setFailure(error);
      setBusy(false);
    }
  }

  return (
    <>
      <Heading title="Samtykke">Samtykke til registrering</Heading>
      <p className="lead">
        Før du fyller ut skjemaet, ber vi om ditt samtykke til at svarene dine og opplysninger om behandlingen din
        registreres i {name}.
      </p>
      <section aria-labelledby="om-registeret">
        <h2 id="om-registeret">Hva er registeret?</h2>
        <p>
          Et medisinsk kvalitetsregister samler opplysninger om pasienter som får samme type behandling. Formålet er å
          finne ut hvilke behandlinger som virker best, og å gjøre behandlingen bedre for alle pasienter.
        </p>
      </section>
      <section aria-labelledby="hva-registreres">
        <h2 id="hva-registreres">Hva registreres?</h2>
        <ul>
          <li>Svarene du gir i skjemaene, om plager, funksjon og livskvalitet.</li>
          <li>Opplysninger fra behandlingsstedet om undersøkelse, diagnose og behandling.</li>
          <li>Fødselsnummeret ditt, slik at opplysninger fra ulike tidspunkter kan kobles sammen.</li>
        </ul>
      </section>
      <section aria-labelledby="hvorfor">
        <h2 id="hvorfor">Hvorfor?</h2>
        <p>
          Opplysningene brukes til å følge med på kvaliteten i behandlingen og til å sammenligne resultater mellom
          behandlingssteder. Resultater offentliggjøres bare slik at ingen enkeltpersoner kan kjennes igjen. Bare de
          som trenger det i arbeidet sitt, får tilgang til opplysningene.
        </p>
      </section>
      <section aria-labelledby="frivillig">
        <h2 id="frivillig">Det er frivillig</h2>
        <p>
          Du får den samme behandlingen enten du samtykker eller ikke. Du kan når som helst trekke samtykket og be om
          at opplysningene om deg slettes. Les mer under <Link to="/rettigheter">Dine rettigheter</Link>.
        </p>
      </section>
      {failure && <ErrorAlert title="Samtykket kunne ikke lagres" messages={messagesOf(failure)} />}
      <form onSubmit={submit} noValidate>
        <fieldset>
          <legend>Ditt samtykke</legend>
          <div className="check">
            <input
              ref={checkbox}
              type="checkbox"
              id="samtykke"
              checked={agreed}
              onChange={(event) => {
                setAgreed(event.target.checked);
                if (event.target.checked) setMissing(false);
              }}
              aria-required="true"
              aria-invalid={missing ? true : undefined}
              aria-describedby={missing ? "samtykke-feil" : undefined}
            />
            <label htmlFor="samtykke">
              Jeg har lest informasjonen og samtykker til at opplysninger om meg registreres i {name} (påkrevd).
            </label>
          </div>
          {missing && (
            <p id="samtykke-feil" className="field-error" role="alert">
              Du må krysse av for samtykke før du kan gå videre til skjemaet.
            </p>
          )}
          <div className="check">
            <input
              type="checkbox"
              id="forskning"
              checked={research}
              onChange={(event) => setResearch(event.target.checked)}
            />
            <label htmlFor="forskning">
              Opplysningene kan også brukes i forskningsprosjekter som er godkjent av en regional etisk komité
              (valgfritt).
            </label>
          </div>
        </fieldset>
        <div className="actions">
          <button type="submit" className="primary" disabled={busy}>
            Gå videre til skjemaet
          </button>
          {cancelTo && <Link to={cancelTo}>Avbryt</Link>}
        </div>
      </form>
    </>
  );
}
