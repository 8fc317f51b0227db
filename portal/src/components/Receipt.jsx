// After sending, and whenever a sent form is opened again: the receipt, and (not on a shared clinic tablet) the
// answers, read-only.
import { lazy, Suspense } from "react";
import { formatDateTime } from "../format.js";
import { Link } from "../router.jsx";
import Heading from "./Heading.jsx";

const ResponseView = lazy(() => import("./ReferoForms.jsx").then((m) => ({ default: m.ResponseView })));

export default function Receipt({ questionnaire, response, justSent, tablet, onFinish }) {
  const sentAt = response?.authored || response?.meta?.lastUpdated;
  return (
    <>
      <Heading title="Kvittering">{justSent ? "Takk! Skjemaet er sendt inn" : "Skjemaet er sendt inn"}</Heading>
      <div className="receipt" role="status">
        <p>
          {questionnaire?.title ? `«${questionnaire.title}» ble sendt inn` : "Skjemaet ble sendt inn"}
          {sentAt ? ` ${formatDateTime(sentAt)}` : ""}. Et innsendt skjema kan ikke endres.
        </p>
      </div>
      {tablet ? (
        <>
          <p>Du kan nå gi nettbrettet tilbake til resepsjonen.</p>
          <button type="button" className="primary" onClick={onFinish}>
            Avslutt
          </button>
        </>
      ) : (
        <>
          <p>
            <Link to="/oppgaver">Tilbake til skjemaene dine</Link>
          </p>
          {response && questionnaire && (
            <section aria-labelledby="svar-tittel">
              <h2 id="svar-tittel">Dine svar</h2>
              <Suspense fallback={<p role="status">Henter svarene …</p>}>
                <ResponseView questionnaire={questionnaire} response={response} />
              </Suspense>
            </section>
          )}
        </>
      )}
    </>
  );
}
