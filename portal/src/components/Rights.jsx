// The patient's rights in a medical quality registry (R1–R4). Everyone reads what they are; a signed-in patient
// also uses them here. A clinic tablet's session (shared, one form) gets the texts only and shows no data.
import { Link } from "../router.jsx";
import Heading from "./Heading.jsx";
import ConsentWithdrawal from "./rights/ConsentWithdrawal.jsx";
import CorrectionRequest from "./rights/CorrectionRequest.jsx";
import ErasureRequest from "./rights/ErasureRequest.jsx";
import MyRecord from "./rights/MyRecord.jsx";
import PatientRights from "./rights/PatientRights.jsx";
import Reservation from "./rights/Reservation.jsx";
import "./rights/rights.css";

const RIGHTS = [
  {
    id: "innsyn",
    title: "Se opplysningene om deg",
    text: "Du kan få vite hvilke opplysninger registeret har om deg, hva de brukes til og hvem som har fått tilgang til dem.",
    functions: [MyRecord],
  },
  {
    id: "retting",
    title: "Be om retting",
    text: "Er noen av opplysningene feil eller ufullstendige, kan du be om at de blir rettet.",
    functions: [CorrectionRequest],
  },
  {
    id: "samtykke",
    title: "Trekke samtykket og be om sletting",
    text:
      "Har du samtykket til å være med i et register, kan du når som helst trekke samtykket og be om at opplysningene " +
      "om deg slettes. Det får ingen betydning for behandlingen du får. Registre som ikke bygger på samtykke, kan du " +
      "protestere mot.",
    functions: [ConsentWithdrawal, ErasureRequest],
  },
  {
    id: "reservasjon",
    title: "Reservere deg mot spørreskjema",
    text: "Du kan be om å ikke få flere spørreskjema fra registeret.",
    functions: [Reservation],
  },
];

function RightsText() {
  return (
    <ul className="rights">
      {RIGHTS.map((right) => (
        <li key={right.id}>
          <h2>{right.title}</h2>
          <p>{right.text}</p>
        </li>
      ))}
    </ul>
  );
}

export default function Rights({ session }) {
  const kind = session?.kind;
  return (
    <>
      <Heading>Dine rettigheter</Heading>
      <p className="lead">
        Når opplysninger om deg er registrert i et medisinsk kvalitetsregister, har du disse rettighetene:
      </p>
      {kind === "patient" ? <PatientRights token={session.token} rights={RIGHTS} /> : <RightsText />}
      {kind === "tablet" && (
        <p className="notice">
          På et nettbrett i klinikken vises ingen opplysninger om deg. Logg inn på din egen mobil eller datamaskin
          for å se opplysningene og bruke rettighetene dine.
        </p>
      )}
      {!session && <p>Logg inn for å se opplysningene om deg og bruke rettighetene dine her.</p>}
      <p>Du kan også kontakte behandlingsstedet ditt eller registeret direkte.</p>
      <p>
        {kind === "patient" && <Link to="/oppgaver">Tilbake til skjemaene dine</Link>}
        {kind === "tablet" && <Link to={`/oppgave/${session.task}`}>Tilbake til skjemaet</Link>}
        {!session && <Link to="/">Logg inn</Link>}
      </p>
    </>
  );
}
