// Every clinic page: a skip link, the header (the signed-in unit and role, sign-out), the pages' navigation and the
// page.
import { Link, usePath } from "../../router.jsx";
import { ROLE_NAMES } from "../staffSession.js";

const PAGES = [
  ["/arbeidsliste", "Arbeidsliste"],
  ["/rapporter", "Kvalitetsrapporter"],
];

function ClinicNavigation() {
  const path = usePath();
  return (
    <nav className="clinic-nav" aria-label="Klinikkens sider">
      <ul className="wrap">
        {PAGES.map(([to, label]) => (
          <li key={to}>
            <Link to={to} aria-current={path === to ? "page" : undefined}>
              {label}
            </Link>
          </li>
        ))}
      </ul>
    </nav>
  );
}

export default function ClinicLayout({ session, onSignOut, children }) {
  return (
    <>
      <a className="skip-link" href="#innhold">
        Hopp til hovedinnholdet
      </a>
      <header className="site-header">
        <div className="wrap header-row">
          <Link to="/" className="brand">
            Registerskjema – klinikk
          </Link>
          {session && (
            <div className="clinic-user">
              <span>
                {ROLE_NAMES[session.role] || session.role}, enhet {session.org}
              </span>
              <button type="button" className="link-button" onClick={onSignOut}>
                Logg ut
              </button>
            </div>
          )}
        </div>
      </header>
      {session && <ClinicNavigation />}
      <main id="innhold" className="wrap clinic" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}
