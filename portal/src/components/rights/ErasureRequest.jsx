// R3, "Be om sletting": the registry administration gets the request to erase the patient's registry data.
import RequestForm from "./RequestForm.jsx";

export default function ErasureRequest({ token, record, onChange }) {
  return (
    <>
      <h3>Be om sletting</h3>
      <p>
        Du kan be om at opplysningene om deg i registeret slettes. Registeret sletter dem og tar bare vare på at
        slettingen er gjort.
      </p>
      <RequestForm
        token={token}
        patientId={record.patientId}
        operation="request-erasure"
        label="Vil du si noe mer om slettingen?"
        hint="Du trenger ikke begrunne forespørselen."
        required={false}
        submitText="Be om sletting"
        receiptText="Forespørselen om sletting er sendt."
        onSent={onChange}
      />
    </>
  );
}
