// The front page without a session: a one-time code from the clinic (a tablet, rule N8) and, in development
// mode only, a sign-in with a national identity number standing in for ID-porten.
import { useEffect, useState } from "react";
import { request } from "../api.js";
import Heading from "./Heading.jsx";
import CodeSignIn from "./CodeSignIn.jsx";
import DevSignIn from "./DevSignIn.jsx";

export default function SignIn({ onSignIn, notice }) {
  const [devLogin, setDevLogin] = useState(false);
  useEffect(() => {
    request("/portal/config.json").then(
      (config) => setDevLogin(Boolean(config?.devLogin)),
      () => setDevLogin(false),
    );
  }, []);
  return (
    <>
      <Heading title="Logg inn">Skjema fra behandlingsstedet ditt</Heading>
      <p className="lead">Her fyller du ut spørreskjema til medisinske kvalitetsregistre.</p>
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      <div className="sign-in">
        {devLogin ? (
          <DevSignIn onSignIn={onSignIn} />
        ) : (
          <section className="card" aria-labelledby="id-porten-tittel">
            <h2 id="id-porten-tittel">Logg inn</h2>
            <p>Innlogging med ID-porten kommer senere. Har du fått en kode på klinikken, kan du bruke den her.</p>
          </section>
        )}
        <CodeSignIn onSignIn={onSignIn} />
      </div>
    </>
  );
}
