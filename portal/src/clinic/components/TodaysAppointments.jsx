// Today's appointments at the unit (Europe/Oslo), each with its registry episode and the pre-consultation form's
// status; the patient's name links to the episode (by its id).
import { useId } from "react";
import { registryOf } from "../../fhir.js";
import { useLoad } from "../../hooks.js";
import { registryInfo } from "../../registries.js";
import { Link } from "../../router.jsx";
import ErrorAlert, { messagesOf } from "../../components/ErrorAlert.jsx";
import { appointmentsOn, FORM_STATUS, patientLabel } from "../clinicFhir.js";
import { osloDay, osloTime } from "../osloDates.js";

function formStatus({ episode, baseline }) {
  if (!episode) return "Ikke i registeret";
  if (!baseline) return "Ingen skjema";
  return FORM_STATUS[baseline.status] || baseline.status;
}

export default function TodaysAppointments({ token }) {
  const headingId = useId();
  const day = osloDay();
  const [{ loading, data: rows, error }] = useLoad(() => appointmentsOn(token, day), [token, day]);
  return (
    <section className="worklist" aria-labelledby={headingId}>
      <h2 id={headingId}>Dagens timer</h2>
      {loading && <p role="status">Henter dagens timer …</p>}
      {error && <ErrorAlert title="Kunne ikke hente dagens timer" messages={messagesOf(error)} />}
      {rows && rows.length === 0 && <p>Enheten har ingen timer i dag.</p>}
      {rows && rows.length > 0 && (
        <table className="clinic-table">
          <caption className="visually-hidden">Dagens timer, med registerforløp og skjemastatus</caption>
          <thead>
            <tr>
              <th scope="col">Tid</th>
              <th scope="col">Pasient</th>
              <th scope="col">Register</th>
              <th scope="col">Skjema før konsultasjonen</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.appointment.id}>
                <td>
                  <time dateTime={row.appointment.start}>{osloTime(row.appointment.start)}</time>
                </td>
                <th scope="row">
                  {row.episode ? (
                    <Link to={`/forlop/${row.episode.id}`}>{patientLabel(row.patient)}</Link>
                  ) : (
                    patientLabel(row.patient)
                  )}
                </th>
                <td>{row.episode ? registryInfo(registryOf(row.episode)).name : "–"}</td>
                <td>{formStatus(row)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
