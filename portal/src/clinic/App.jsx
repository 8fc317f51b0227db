// The clinicians' pages: staff sign-in, the unit's work lists, an episode (the patient's answers, the clinician
// form, deleting the episode), the short baseline given on site (P6) and the unit's quality reports (N22). Paths
// carry resource ids only.
import { useCallback, useEffect, useState } from "react";
import { setUnauthorizedHandler } from "../api.js";
import NotFound from "../components/NotFound.jsx";
import Redirect from "../components/Redirect.jsx";
import { navigate, usePath } from "../router.jsx";
import ClinicLayout from "./components/ClinicLayout.jsx";
import EpisodePage from "./components/EpisodePage.jsx";
import ReportsPage from "./components/ReportsPage.jsx";
import ShortBaselinePage from "./components/ShortBaselinePage.jsx";
import StaffSignIn from "./components/StaffSignIn.jsx";
import WorkList from "./components/WorkList.jsx";
import { clearStaffSession, loadStaffSession, saveStaffSession } from "./staffSession.js";

const HOME = "/arbeidsliste";
const REPORTS = "/rapporter";

export default function App() {
  const path = usePath();
  const [session, setSession] = useState(loadStaffSession);
  const [notice, setNotice] = useState(null);

  const signIn = useCallback((started) => {
    saveStaffSession(started);
    setSession(started);
    setNotice(null);
    navigate(HOME, { replace: true });
  }, []);
  const signOut = useCallback((message = null) => {
    clearStaffSession();
    setSession(null);
    setNotice(message);
    navigate("/", { replace: true });
  }, []);
  useEffect(() => setUnauthorizedHandler(() => signOut("Økten er utløpt. Logg inn på nytt.")), [signOut]);

  return (
    <ClinicLayout session={session} onSignOut={() => signOut("Du er logget ut.")}>
      {page(path, { session, notice, signIn })}
    </ClinicLayout>
  );
}

function page(path, { session, notice, signIn }) {
  if (!session) return path === "/" ? <StaffSignIn onSignIn={signIn} notice={notice} /> : <Redirect to="/" />;
  if (path === "/") return <Redirect to={HOME} />;
  if (path === HOME) return <WorkList session={session} />;
  if (path === REPORTS) return <ReportsPage session={session} />;
  if (path === "/reports") return <Redirect to={REPORTS} />;
  const episode = path.match(/^\/forlop\/([^/]+)$/)?.[1];
  if (episode) return <EpisodePage key={episode} episodeId={decodeURIComponent(episode)} session={session} />;
  const short = path.match(/^\/forlop\/([^/]+)\/kort-kartlegging$/)?.[1];
  if (short) return <ShortBaselinePage key={short} episodeId={decodeURIComponent(short)} session={session} />;
  const paper = path.match(/^\/forlop\/([^/]+)\/papirskjema$/)?.[1];
  if (paper) {
    return <ShortBaselinePage key={`paper-${paper}`} episodeId={decodeURIComponent(paper)} session={session} mode="paper" />;
  }
  return <NotFound />;
}
