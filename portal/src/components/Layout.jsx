// Every page: a skip link, the header (with sign-out), the page, and the footer with the patient's rights.
import { Link } from "../router.jsx";

export default function Layout({ session, onSignOut, children }) {
  return (
    <>
      <a className="skip-link" href="#innhold">
        Hopp til hovedinnholdet
      </a>
      <header className="site-header">
        <div className="wrap header-row">
          <Link to="/" className="brand">
            Pasientskjema
          </Link>
          {session && (
            <button type="button" className="link-button" onClick={onSignOut}>
              Logg ut
            </button>
          )}
        </div>
      </header>
      <main id="innhold" className="wrap" tabIndex={-1}>
        {children}
      </main>
      <footer className="site-footer">
        <nav className="wrap" aria-label="Om dine opplysninger">
          <Link to="/rettigheter">Dine rettigheter</Link>
        </nav>
      </footer>
    </>
  );
}
