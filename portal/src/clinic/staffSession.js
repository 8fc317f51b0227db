// The signed-in staff member's session: the access token, role, HPR number and unit in this tab's sessionStorage
// only (its own key, apart from a patient session) — never in a URL, gone when the tab closes.
const KEY = "ryggrad.clinic.session";

export function loadStaffSession() {
  try {
    const session = JSON.parse(window.sessionStorage.getItem(KEY));
    if (!session?.token || (session.expiresAt && session.expiresAt <= Date.now())) return null;
    return session;
  } catch {
    return null;
  }
}

export function saveStaffSession(session) {
  window.sessionStorage.setItem(KEY, JSON.stringify(session));
}

export function clearStaffSession() {
  window.sessionStorage.removeItem(KEY);
}

/** A session from a token answer, for ``role`` (clinician, clerk) with HPR number ``hpr`` at unit ``org``. */
export function newStaffSession({ role, hpr, org }, answer) {
  const expiresAt = answer.expires_in ? Date.now() + answer.expires_in * 1000 : null;
  return { role, hpr, org, token: answer.access_token, expiresAt };
}

export const ROLE_NAMES = { clinician: "Behandler", clerk: "Merkantil" };
