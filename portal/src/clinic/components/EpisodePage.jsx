// One episode (by its id): the patient, the registry and the planned consultation; the patient's answers before
// the consultation with any scores; the clinician form; the short baseline link while it can be given (P6); and
// deleting the episode (N19).
import { useId } from "react";
import ErrorAlert, { messagesOf } from "../../components/ErrorAlert.jsx";
import Heading from "../../components/Heading.jsx";
import { formatDateTime } from "../../format.js";
import { useLoad } from "../../hooks.js";
import { registryInfo } from "../../registries.js";
import { Link } from "../../router.jsx";
import {
  FORM_STATUS,
  loadEpisode,
  paperFormOpen,
  patientLabel,
  plannedConsultation,
  shortBaselineOpen,
} from "../clinicFhir.js";
import AnswerSummary from "./AnswerSummary.jsx";
import ClinicianFormSection from "./ClinicianFormSection.jsx";
import DeleteEpisode from "./DeleteEpisode.jsx";
import Scores from "./Scores.jsx";

const EPISODE_STATUS = {
  planned: "Planlagt",
  waitlist: "På venteliste",
  active: "Aktivt",
  onhold: "På vent",
  finished: "Avsluttet",
  cancelled: "Avbrutt",
  "entered-in-error": "Slettet",
};

function Section({ title, children }) {
  const id = useId();
  return (
    <section className="episode-section" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}

function PatientAnswers({ state }) {
  const { answered, answeredForm, baseline, scores } = state;
  if (answered) {
    return (
      <>
        <p className="muted">
          {answeredForm.title}
          {answered.authored ? `, besvart ${formatDateTime(answered.authored)}` : ""}
        </p>
        <Scores observations={scores} />
        <AnswerSummary questionnaire={answeredForm} response={answered} />
      </>
    );
  }
  const status = baseline ? FORM_STATUS[baseline.status] || baseline.status : "Ingen skjema";
  return (
    <>
      <p>Pasienten har ikke svart på skjemaet før konsultasjonen. Status: {status}.</p>
      {shortBaselineOpen(state) && (
        <p>
          <Link to={`/forlop/${state.episode.id}/kort-kartlegging`}>Kort kartlegging (P6)</Link>
        </p>
      )}
      {paperFormOpen(state) && (
        <p>
          <Link to={`/forlop/${state.episode.id}/papirskjema`}>Registrer papirskjema</Link>
        </p>
      )}
    </>
  );
}

export default function EpisodePage({ episodeId, session }) {
  const { token } = session;
  const [{ loading, data: state, error }, setLoad] = useLoad(() => loadEpisode(token, episodeId), [episodeId, token]);

  if (loading) return <p role="status">Henter forløpet …</p>;
  if (error) {
    return (
      <>
        <Heading>Forløpet kunne ikke åpnes</Heading>
        <ErrorAlert title="Feil" messages={messagesOf(error)} />
        <Link to="/arbeidsliste">Tilbake til arbeidslisten</Link>
      </>
    );
  }
  const { episode, patient, registry } = state;
  const deleted = episode.status === "entered-in-error";
  const planned = plannedConsultation(episode);
  const onDeleted = (written) => setLoad((current) => ({ ...current, data: { ...current.data, episode: written } }));
  return (
    <>
      <Heading title="Forløp">Forløp: {patientLabel(patient)}</Heading>
      <p>
        <Link to="/arbeidsliste">Tilbake til arbeidslisten</Link>
      </p>
      <dl className="facts">
        <div>
          <dt>Register</dt>
          <dd>{registryInfo(registry).name}</dd>
        </div>
        {planned && (
          <div>
            <dt>Planlagt konsultasjon</dt>
            <dd>{formatDateTime(planned)}</dd>
          </div>
        )}
        <div>
          <dt>Status</dt>
          <dd>{EPISODE_STATUS[episode.status] || episode.status}</dd>
        </div>
      </dl>
      {deleted ? (
        <p className="notice" role="status">
          Forløpet er slettet. Skjemaene i forløpet er trukket tilbake.
        </p>
      ) : (
        <>
          <Section title="Pasientens svar før konsultasjonen">
            <PatientAnswers state={state} />
          </Section>
          {state.clinicianForm && (
            <Section title="Behandlerskjema">
              <ClinicianFormSection state={state} session={session} />
            </Section>
          )}
          {session.role === "clinician" && (
            <Section title="Slett forløp">
              <p>Slett forløpet hvis pasienten ikke vil delta i registeret.</p>
              <DeleteEpisode episode={episode} token={token} onDeleted={onDeleted} />
            </Section>
          )}
        </>
      )}
    </>
  );
}
