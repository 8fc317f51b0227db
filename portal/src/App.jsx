// The portal's pages: sign-in, the patient's forms, one form, and the patient's rights. A clinic tablet's session
// (a one-time code) opens its one form and nothing else.
import { useCallback, useEffect, useState } from "react";
import { setUnauthorizedHandler } from "./api.js";
import { clearSession, loadSession, saveSession } from "./session.js";
import { navigate, usePath } from "./router.jsx";
import Layout from "./components/Layout.jsx";
import NotFound from "./components/NotFound.jsx";
import Redirect from "./components/Redirect.jsx";
import Rights from "./components/Rights.jsx";
import SignIn from "./components/SignIn.jsx";
import TaskList from "./components/TaskList.jsx";
import TaskPage from "./components/TaskPage.jsx";

function home(session) {
  return session.kind === "tablet" ? `/oppgave/${session.task}` : "/oppgaver";
}

export default function App() {
  const path = usePath();
  const [session, setSession] = useState(loadSession);
  const [notice, setNotice] = useState(null);

  const signIn = useCallback((started) => {
    saveSession(started);
    setSession(started);
    setNotice(null);
    navigate(home(started), { replace: true });
  }, []);
  const signOut = useCallback((message = null) => {
    clearSession();
    setSession(null);
    setNotice(message);
    navigate("/", { replace: true });
  }, []);
  useEffect(() => setUnauthorizedHandler(() => signOut("Økten er utløpt. Logg inn på nytt.")), [signOut]);

  return (
    <Layout session={session} onSignOut={() => signOut("Du er logget ut.")}>
      {page(path, { session, notice, signIn, signOut })}
    </Layout>
  );
}

function page(path, { session, notice, signIn, signOut }) {
  if (path === "/rettigheter") return <Rights session={session} />;
  if (!session) return path === "/" ? <SignIn onSignIn={signIn} notice={notice} /> : <Redirect to="/" />;
  const task = path.match(/^\/oppgave\/([^/]+)$/)?.[1];
  if (session.kind === "tablet") {
    if (task !== session.task) return <Redirect to={home(session)} />;
    return <TaskPage key={task} taskId={task} session={session} onFinish={() => signOut("Takk for svarene dine.")} />;
  }
  if (path === "/") return <Redirect to="/oppgaver" />;
  if (path === "/oppgaver") return <TaskList session={session} />;
  if (task) return <TaskPage key={task} taskId={decodeURIComponent(task)} session={session} />;
  return <NotFound />;
}
