// Unfinished clinician forms from the server's $unfinished-forms (N13), oldest first, with their age in days.
import { useId } from "react";
import { formatDate } from "../../format.js";
import { useLoad } from "../../hooks.js";
import { Link } from "../../router.jsx";
import ErrorAlert, { messagesOf } from "../../components/ErrorAlert.jsx";
import { patientLabel, unfinishedForms } from "../clinicFhir.js";
import { days } from "../osloDates.js";

function episodeId(form) {
  const reference = form.episode?.reference || "";
  return reference.startsWith("EpisodeOfCare/") ? reference.split("/")[1] : null;
}

export default function UnfinishedForms({ token, mine, title, empty }) {
  const headingId = useId();
  const [{ loading, data: forms, error }] = useLoad(() => unfinishedForms(token, { mine }), [token, mine]);
  return (
    <section className="worklist" aria-labelledby={headingId}>
      <h2 id={headingId}>{title}</h2>
      {loading && <p role="status">Henter skjemaene …</p>}
      {error && <ErrorAlert title="Kunne ikke hente skjemaene" messages={messagesOf(error)} />}
      {forms && forms.length === 0 && <p>{empty}</p>}
      {forms && forms.length > 0 && (
        <table className="clinic-table">
          <caption className="visually-hidden">{title}, eldste først</caption>
          <thead>
            <tr>
              <th scope="col">Pasient</th>
              <th scope="col">Konsultasjon</th>
              <th scope="col">Påbegynt</th>
              <th scope="col">Alder</th>
            </tr>
          </thead>
          <tbody>
            {forms.map((form) => (
              <tr key={form.response?.reference}>
                <th scope="row">
                  {episodeId(form) ? (
                    <Link to={`/forlop/${episodeId(form)}`}>{patientLabel(form.patient)}</Link>
                  ) : (
                    patientLabel(form.patient)
                  )}
                </th>
                <td>{form.consultation ? formatDate(form.consultation) : "–"}</td>
                <td>{formatDate(form.started)}</td>
                <td>{days(form.ageDays ?? 0)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
