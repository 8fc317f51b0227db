// The patient's open forms (the server shows a patient their own Tasks only), soonest deadline first.
import { fhir, matches } from "../api.js";
import { deadlineOf, registryOf } from "../fhir.js";
import { formatDate } from "../format.js";
import { useLoad } from "../hooks.js";
import { registryInfo } from "../registries.js";
import { Link } from "../router.jsx";
import ErrorAlert, { messagesOf } from "./ErrorAlert.jsx";
import Heading from "./Heading.jsx";

async function openTasks(token) {
  const bundle = await fhir("Task", { token, params: { status: "ready,in-progress", _count: "100" } });
  return matches(bundle).sort((a, b) =>
    String(deadlineOf(a) || "9999").localeCompare(String(deadlineOf(b) || "9999")),
  );
}

export default function TaskList({ session }) {
  const [{ loading, data: tasks, error }] = useLoad(() => openTasks(session.token), [session.token]);
  return (
    <>
      <Heading title="Dine skjema">Skjema du kan fylle ut</Heading>
      {loading && <p role="status">Henter skjemaene dine …</p>}
      {error && <ErrorAlert title="Kunne ikke hente skjemaene" messages={messagesOf(error)} />}
      {tasks && tasks.length === 0 && <p>Du har ingen skjema å fylle ut nå.</p>}
      {tasks && tasks.length > 0 && (
        <ul className="task-list">
          {tasks.map((task) => (
            <li key={task.id} className="card">
              <h2>
                <Link to={`/oppgave/${task.id}`}>{task.description || "Skjema"}</Link>
              </h2>
              <p className="muted">{registryInfo(registryOf(task)).name}</p>
              {deadlineOf(task) && (
                <p>
                  Frist: <time dateTime={deadlineOf(task)}>{formatDate(deadlineOf(task))}</time>
                </p>
              )}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
