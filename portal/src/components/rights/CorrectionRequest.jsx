// R2, "Be om retting": the patient says what is wrong; the units holding their data get it as a request.
import RequestForm from "./RequestForm.jsx";

export default function CorrectionRequest({ token, record, onChange }) {
  return (
    <RequestForm
      token={token}
      patientId={record.patientId}
      operation="request-correction"
      label="Hva er feil, og hva skal det være?"
      hint={
        "Skriv så konkret du kan, for eksempel hvilket skjema eller hvilken dato det gjelder. " +
        "Ikke skriv fødselsnummer."
      }
      required
      submitText="Send forespørsel om retting"
      receiptText="Forespørselen om retting er sendt."
      onSent={onChange}
    />
  );
}
