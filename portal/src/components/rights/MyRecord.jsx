// R1, "Se opplysningene om deg": the patient's record in plain Norwegian — registrations, forms sent, answers given,
// consents and requests — and the whole of it to download.
import { splitCanonical } from "../../fhir.js";
import { formatDate } from "../../format.js";
import { registryInfo } from "../../registries.js";
import DownloadRecord from "./DownloadRecord.jsx";
import {
  consentStatus,
  episodeStatus,
  formStatus,
  requestKindText,
  requestStatus,
  responseStatus,
} from "./labels.js";
import { consentDate, registryCode, requestKind, responseDate, taskDate } from "./record.js";
import RecordTable from "./RecordTable.jsx";

function When({ value }) {
  return value ? <time dateTime={value}>{formatDate(value)}</time> : "–";
}

const registryName = (resource) => (registryCode(resource) ? registryInfo(registryCode(resource)).name : "–");

function responseTitle(response, record) {
  const title = record.titles[splitCanonical(response.questionnaire)[0]];
  if (title) return title;
  const taskRef = (response.basedOn || []).map((b) => b.reference).find((r) => r?.startsWith("Task/"));
  return record.forms.find((t) => `Task/${t.id}` === taskRef)?.description || "Skjema";
}

export default function MyRecord({ record }) {
  const registrations = record.episodes.map((episode) => ({
    key: episode.id,
    cells: [registryName(episode), episodeStatus(episode.status), <When key="d" value={episode.period?.start} />],
  }));
  const forms = record.forms.map((task) => ({
    key: task.id,
    cells: [
      task.description || "Skjema",
      formStatus(task.status),
      <When key="d" value={taskDate(task)} />,
      <When key="f" value={task.restriction?.period?.end} />,
    ],
  }));
  const answerRows = (responses) =>
    responses.map((response) => ({
      key: response.id,
      cells: [
        responseTitle(response, record),
        responseStatus(response.status),
        <When key="d" value={responseDate(response)} />,
      ],
    }));
  const consents = [...record.consents, ...record.reservations].map((consent) => ({
    key: consent.id,
    cells: [
      record.reservations.includes(consent) ? "Reservasjon mot spørreskjema" : registryName(consent),
      consentStatus(consent.status),
      <When key="d" value={consentDate(consent)} />,
    ],
  }));
  const requests = record.requests.map((task) => ({
    key: task.id,
    cells: [requestKindText(requestKind(task)), requestStatus(task.status), <When key="d" value={taskDate(task)} />],
  }));
  return (
    <div className="rights-record">
      <RecordTable
        caption="Registreringer"
        columns={["Register", "Status", "Fra"]}
        rows={registrations}
        empty="Du er ikke registrert i noe register."
      />
      <RecordTable
        caption="Skjema sendt til deg"
        columns={["Skjema", "Status", "Dato", "Frist"]}
        rows={forms}
        empty="Du har ikke fått noen skjema."
      />
      <RecordTable
        caption="Svar du har gitt"
        columns={["Skjema", "Status", "Dato"]}
        rows={answerRows(record.responses)}
        empty="Du har ikke svart på noen skjema."
      />
      <RecordTable
        caption="Skjema behandlingsstedet fyller ut om deg"
        columns={["Skjema", "Status", "Dato"]}
        rows={answerRows(record.clinicForms)}
        empty="Behandlingsstedet har ikke fylt ut noen skjema om deg."
      />
      <RecordTable
        caption="Samtykker og reservasjoner"
        columns={["Gjelder", "Status", "Dato"]}
        rows={consents}
        empty="Du har ikke gitt noe samtykke."
      />
      <RecordTable
        caption="Dine henvendelser"
        columns={["Henvendelse", "Status", "Sendt"]}
        rows={requests}
        empty="Du har ikke sendt noen henvendelser."
      />
      {record.others.length > 0 && (
        <p>
          Registeret har også {record.others.length} andre opplysninger om deg fra behandlingsstedet, for eksempel
          om undersøkelser og behandling. De er med i filen du kan laste ned.
        </p>
      )}
      <DownloadRecord bundle={record.bundle} />
    </div>
  );
}
