// OPR's short baseline (P6), given on site by the office for a patient who did not answer the baseline form before
// arriving: the form in refero, sent based on the baseline Task (the server accepts it from staff only, while the
// baseline is open), the reason it was used among its answers.
import { lazy, Suspense, useState } from "react";
import ErrorAlert, { messagesOf } from "../../components/ErrorAlert.jsx";
import Heading from "../../components/Heading.jsx";
import { useLoad } from "../../hooks.js";
import { Link } from "../../router.jsx";
import {
  loadEpisode,
  patientLabel,
  questionnaireFor,
  SHORT_BASELINES,
  shortBaselineOpen,
  shortBaselineToSend,
  writeResponse,
} from "../clinicFhir.js";
import { useWrite } from "../useWrite.js";

const ClinicReferoForm = lazy(() => import("./ClinicReferoForm.jsx"));

async function loadShortBaseline(token, episodeId) {
  const state = await loadEpisode(token, episodeId);
  if (!shortBaselineOpen(state)) return { ...state, open: false };
  return { ...state, open: true, questionnaire: await questionnaireFor(token, SHORT_BASELINES[state.registry]) };
}

export default function ShortBaselinePage({ episodeId, session }) {
  const { token } = session;
  const [{ loading, data: state, error }] = useLoad(() => loadShortBaseline(token, episodeId), [episodeId, token]);
  const [sent, setSent] = useState(null);
  const { busy, failure, alert, run } = useWrite();
  const back = <Link to={`/forlop/${episodeId}`}>Tilbake til forløpet</Link>;

  if (loading) return <p role="status">Henter skjemaet …</p>;
  if (error) {
    return (
      <>
        <Heading>Skjemaet kunne ikke åpnes</Heading>
        <ErrorAlert title="Feil" messages={messagesOf(error)} />
        {back}
      </>
    );
  }
  if (sent) {
    return (
      <>
        <Heading>Kort kartlegging er sendt</Heading>
        <p className="notice" role="status">
          Svarene er lagret i registeret i stedet for kartleggingen før første time.
        </p>
        {back}
      </>
    );
  }
  if (!state.open) {
    return (
      <>
        <Heading>Kort kartlegging kan ikke gis</Heading>
        <p>Kort kartlegging kan bare gis mens kartleggingsskjemaet før første time er åpent og ubesvart.</p>
        {back}
      </>
    );
  }

  async function send(answers) {
    const body = shortBaselineToSend({ answers, questionnaire: state.questionnaire, task: state.baseline });
    const written = await run("completed", () => writeResponse(token, body));
    if (written) setSent(written);
  }

  return (
    <>
      <Heading title="Kort kartlegging">Kort kartlegging (P6): {patientLabel(state.patient)}</Heading>
      <p>{back}</p>
      <p>
        Brukes når pasienten ikke har svart på kartleggingen før første time. Oppgi hvorfor det korte skjemaet ble
        brukt.
      </p>
      {failure && <ErrorAlert ref={alert} title="Skjemaet ble ikke sendt" messages={failure.messages} />}
      <p className="save-status" role="status">
        {busy ? "Sender …" : ""}
      </p>
      <Suspense fallback={<p role="status">Laster skjemaet …</p>}>
        <ClinicReferoForm
          questionnaire={state.questionnaire}
          busy={busy}
          onWrite={(answers) => send(answers)}
          finishText="Send inn"
        />
      </Suspense>
    </>
  );
}
