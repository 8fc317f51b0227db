// The rights of a signed-in patient, each with its function: the record is loaded once ($everything) and every
// section works on it; a change (a request sent, a consent withdrawn, a reservation) loads it again.
import ErrorAlert, { messagesOf } from "../ErrorAlert.jsx";
import { useRecord } from "./useRecord.js";

export default function PatientRights({ token, rights }) {
  const { loading, record, error, refresh } = useRecord(token);
  return (
    <>
      {loading && <p role="status">Henter opplysningene om deg …</p>}
      {error && <ErrorAlert title="Kunne ikke hente opplysningene om deg" messages={messagesOf(error)} />}
      {record && !record.patientId && (
        <p className="notice">
          Registeret har ingen opplysninger om deg. Du har derfor ingenting å se, rette eller slette her.
        </p>
      )}
      <ul className="rights">
        {rights.map(({ id, title, text, functions }) => (
          <li key={id}>
            <section aria-labelledby={id}>
              <h2 id={id}>{title}</h2>
              <p>{text}</p>
              {record?.patientId &&
                functions.map((Part, index) => <Part key={index} token={token} record={record} onChange={refresh} />)}
            </section>
          </li>
        ))}
      </ul>
    </>
  );
}
