// One form (a Task): consent first where the registry requires it and none is given, then the form (a saved
// draft goes on where it stopped), then the receipt. A sent form opens as its receipt, read-only.
import { lazy, Suspense } from "react";
import { ApiError, fhir, matches } from "../api.js";
import {
  consentFor,
  deadlineOf,
  hasConsented,
  OPEN_STATUSES,
  pickQuestionnaire,
  registryOf,
  responsesToTask,
  splitCanonical,
} from "../fhir.js";
import { formatDate } from "../format.js";
import { useLoad } from "../hooks.js";
import { registryInfo } from "../registries.js";
import { Link, navigate } from "../router.jsx";
import ConsentStep from "./ConsentStep.jsx";
import ErrorAlert, { messagesOf } from "./ErrorAlert.jsx";
import Heading from "./Heading.jsx";
import Receipt from "./Receipt.jsx";

const FormStep = lazy(() => import("./ReferoForms.jsx").then((m) => ({ default: m.FormStep })));

async function loadTask(taskId, token) {
  const task = await fhir(`Task/${encodeURIComponent(taskId)}`, { token });
  const [url, version] = splitCanonical(task.focus?.reference);
  const [questionnaires, responses] = await Promise.all([
    fhir("Questionnaire", { token, params: { url } }).then(matches),
    // R4's based-on search names no Task: the patient's own responses, newest first, matched to the Task here
    fhir("QuestionnaireResponse", { token, params: { _sort: "-_lastUpdated", _count: "200" } }).then(matches),
  ]);
  const questionnaire = pickQuestionnaire(questionnaires, version);
  if (!questionnaire) throw new ApiError(404, ["Fant ikke skjemaet som hører til oppgaven."]);
  const { sent, draft } = responsesToTask(responses, task.id);
  if (sent || task.status === "completed") return { step: "sent", task, questionnaire, response: sent };
  if (!OPEN_STATUSES.includes(task.status)) return { step: "closed", task, questionnaire };
  const registry = registryOf(task);
  let consented = true;
  if (registry && registryInfo(registry).consent) {
    const consents = await fhir("Consent", { token, params: { patient: task.for?.reference, status: "active" } });
    consented = hasConsented(matches(consents), registry);
  }
  return { step: consented ? "form" : "consent", task, questionnaire, draft, registry };
}

export default function TaskPage({ taskId, session, onFinish }) {
  const { token } = session;
  const tablet = session.kind === "tablet";
  const [{ loading, data: state, error }, setLoad] = useLoad(() => loadTask(taskId, token), [taskId, token]);
  const go = (next) => setLoad((current) => ({ ...current, data: { ...current.data, ...next } }));

  if (loading) return <p role="status">Henter skjemaet …</p>;
  if (error) {
    return (
      <>
        <Heading>Skjemaet kunne ikke åpnes</Heading>
        <ErrorAlert title="Feil" messages={messagesOf(error)} />
        {!tablet && <Link to="/oppgaver">Tilbake til skjemaene dine</Link>}
      </>
    );
  }
  const { task, questionnaire } = state;
  if (state.step === "sent") {
    return (
      <Receipt
        questionnaire={questionnaire}
        response={state.response}
        justSent={state.justSent}
        tablet={tablet}
        onFinish={onFinish}
      />
    );
  }
  if (state.step === "closed") {
    return (
      <>
        <Heading>Skjemaet er ikke lenger åpent</Heading>
        <p>Dette skjemaet kan ikke fylles ut nå. Det kan være trukket tilbake eller ha gått ut på tid.</p>
        {!tablet && <Link to="/oppgaver">Tilbake til skjemaene dine</Link>}
      </>
    );
  }
  if (state.step === "consent") {
    async function accept(research) {
      await fhir("Consent", { method: "POST", token, body: consentFor({ task, registry: state.registry, research }) });
      go({ step: "form" });
    }
    return <ConsentStep registry={state.registry} onAccept={accept} cancelTo={tablet ? null : "/oppgaver"} />;
  }
  const deadline = deadlineOf(task);
  return (
    <>
      <Heading title={task.description || questionnaire.title}>{task.description || questionnaire.title}</Heading>
      {deadline && (
        <p className="muted">
          Frist: <time dateTime={deadline}>{formatDate(deadline)}</time>
        </p>
      )}
      <Suspense fallback={<p role="status">Laster skjemaet …</p>}>
        <FormStep
          task={task}
          questionnaire={questionnaire}
          draft={state.draft}
          token={token}
          onSent={(response) => go({ step: "sent", response, justSent: true })}
          onCancel={() => navigate(tablet ? "/" : "/oppgaver")}
        />
      </Suspense>
    </>
  );
}
