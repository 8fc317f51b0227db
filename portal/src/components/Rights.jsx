// The patient's rights in a medical quality registry. The functions behind them come later; for now, where to go.
import { Link } from "../router.jsx";
import Heading from "./Heading.jsx";

const RIGHTS = [
  {
    title: "Se opplysningene om deg",
    text: "Du kan få vite hvilke opplysninger registeret har om deg, hva de brukes til og hvem som har fått tilgang til dem.",
  },
  {
    title: "Be om retting",
    text: "Er noen av opplysningene feil eller ufullstendige, kan du be om at de blir rettet.",
  },
  {
    title: "Trekke samtykket og be om sletting",
    text:
      "Har du samtykket til å være med i et register, kan du når som helst trekke samtykket og be om at opplysningene " +
      "om deg slettes. Det får ingen betydning for behandlingen du får. Registre som ikke bygger på samtykke, kan du " +
      "protestere mot.",
  },
  {
    title: "Reservere deg mot spørreskjema",
    text: "Du kan be om å ikke få flere spørreskjema fra registeret.",
  },
];

export default function Rights({ session }) {
  return (
    <>
      <Heading>Dine rettigheter</Heading>
      <p className="lead">
        Når opplysninger om deg er registrert i et medisinsk kvalitetsregister, har du disse rettighetene:
      </p>
      <ul className="rights">
        {RIGHTS.map((right) => (
          <li key={right.title}>
            <h2>{right.title}</h2>
            <p>{right.text}</p>
          </li>
        ))}
      </ul>
      <p>
        Snart kan du gjøre dette her. Inntil da kan du kontakte behandlingsstedet ditt eller registeret direkte.
      </p>
      <p>
        {session ? <Link to="/oppgaver">Tilbake til skjemaene dine</Link> : <Link to="/">Til innloggingen</Link>}
      </p>
    </>
  );
}
