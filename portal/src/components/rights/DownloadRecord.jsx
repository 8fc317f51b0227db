// "Last ned alle opplysningene": the $everything Bundle saved as a JSON file, made in the browser (no patient
// identifiers in the file name, nothing sent anywhere).
import { downloadBlob } from "../../download.js";

const FILE_NAME = "mine-opplysninger.json";

export function saveBundle(bundle) {
  downloadBlob(new Blob([JSON.stringify(bundle, null, 2)], { type: "application/fhir+json" }), FILE_NAME);
}

export default function DownloadRecord({ bundle }) {
  return (
    <div className="rights-download">
      <button type="button" className="primary" onClick={() => saveBundle(bundle)} aria-describedby="nedlasting-hjelp">
        Last ned alle opplysningene (FHIR)
      </button>
      <p id="nedlasting-hjelp" className="muted">
        Filen ({FILE_NAME}) inneholder alt registeret har om deg, i det internasjonale formatet FHIR. Den kan leses
        av andre helsetjenester og programmer. Oppbevar den trygt.
      </p>
    </div>
  );
}
