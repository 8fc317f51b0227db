// Forms staff fill in on site in place of the patient's baseline form, based on its Task (the server accepts them
// from staff only, while the baseline is open):
// - OPR's short baseline (P6), given by the office to a patient who did not answer before arriving, with the reason;
// - the baseline form keyed in from the patient's paper form (N4): the server marks it as paper, the patient its
//   source and the staff member its author; where the registry needs consent, the consent on the paper is recorded
//   first (channel paper).
import { lazy, Suspense, useState } from "react";
import ErrorAlert, { messagesOf } from "../../components/ErrorAlert.jsx";
import Heading from "../../components/Heading.jsx";
import { Link } from "../../router.jsx";
import { registryInfo } from "../../registries.js";
import {
  loadEpisode,
  paperFormOpen,
  patientLabel,
  questionnaireFor,
  recordPaperConsent,
  SHORT_BASELINES,
  shortBaselineOpen,
  shortBaselineToSend,
} from "../clinicFhir.js";
import { writeResponse } from "../../api.js";
import { useLoad, useWrite } from "../../hooks.js";

const ClinicReferoForm = lazy(() => import("./ClinicReferoForm.jsx"));

const KINDS = {
  short: {
    title: "Kort kartlegging",
    heading: "Kort kartlegging (P6)",
    sent: "Kort kartlegging er sendt",
    sentText: "Svarene er lagret i registeret i stedet for kartleggingen før første time.",
    closed: "Kort kartlegging kan ikke gis",
    closedText: "Kort kartlegging kan bare gis mens kartleggingsskjemaet før første time er åpent og ubesvart.",
    intro: "Brukes når pasienten ikke har svart på kartleggingen før første time. Oppgi hvorfor det korte skjemaet ble brukt.",
    open: shortBaselineOpen,
    form: (state) => SHORT_BASELINES[state.registry],
  },
  paper: {
    title: "Papirskjema",
    heading: "Registrer papirskjema",
    sent: "Papirskjemaet er registrert",
    sentText: "Svarene er lagret som pasientens svar på papir, registrert av deg.",
    closed: "Papirskjemaet kan ikke registreres",
    closedText: "Et papirskjema kan bare registreres mens skjemaet før første time er åpent og ubesvart.",
    intro: "Skriv inn pasientens svar slik de står på papirskjemaet. Svarene merkes som papirskjema med deg som registrerende.",
    open: paperFormOpen,
    form: (state) => state.baseline?.focus?.reference,
  },
};

async function loadOnSiteForm(token, episodeId, kind) {
  const state = await loadEpisode(token, episodeId);
  if (!kind.open(state)) return { ...state, open: false };
  return { ...state, open: true, questionnaire: await questionnaireFor(token, kind.form(state)) };
}

export default function ShortBaselinePage({ episodeId, session, mode = "short" }) {
  const { token } = session;
  const kind = KINDS[mode];
  const [{ loading, data: state, error }] = useLoad(() => loadOnSiteForm(token, episodeId, kind), [episodeId, token, mode]);
  const [sent, setSent] = useState(null);
  const [consented, setConsented] = useState(false);
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
        <Heading>{kind.sent}</Heading>
        <p className="notice" role="status">
          {kind.sentText}
        </p>
        {back}
      </>
    );
  }
  if (!state.open) {
    return (
      <>
        <Heading>{kind.closed}</Heading>
        <p>{kind.closedText}</p>
        {back}
      </>
    );
  }

  const needsConsent = mode === "paper" && registryInfo(state.registry).consent;

  async function send(answers) {
    const body = shortBaselineToSend({ answers, questionnaire: state.questionnaire, task: state.baseline });
    const written = await run("completed", async () => {
      if (needsConsent) await recordPaperConsent(token, { task: state.baseline, registry: state.registry });
      return writeResponse(token, body);
    });
    if (written) setSent(written);
  }

  return (
    <>
      <Heading title={kind.title}>
        {kind.heading}: {patientLabel(state.patient)}
      </Heading>
      <p>{back}</p>
      <p>{kind.intro}</p>
      {needsConsent && (
        <p className="paper-consent">
          <input
            type="checkbox"
            id="paper-consent"
            checked={consented}
            onChange={(event) => setConsented(event.target.checked)}
            aria-describedby="paper-consent-help"
          />{" "}
          <label htmlFor="paper-consent">Pasienten har samtykket på papirskjemaet</label>
          <span id="paper-consent-help" className="hint">
            {" "}
            Samtykket registreres som gitt på papir før svarene sendes.
          </span>
        </p>
      )}
      {failure && <ErrorAlert ref={alert} title="Skjemaet ble ikke sendt" messages={failure.messages} />}
      <p className="save-status" role="status">
        {busy ? "Sender …" : ""}
      </p>
      <Suspense fallback={<p role="status">Laster skjemaet …</p>}>
        <ClinicReferoForm
          questionnaire={state.questionnaire}
          busy={busy || (needsConsent && !consented)}
          onWrite={(answers) => send(answers)}
          finishText="Send inn"
        />
      </Suspense>
    </>
  );
}
