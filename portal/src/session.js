// The signed-in session: the access token (and, on a clinic tablet, the one Task it opens) in this tab's
// sessionStorage only — never in a URL, gone when the tab closes.
const KEY = "ryggrad.portal.session";

export function loadSession() {
  try {
    const session = JSON.parse(window.sessionStorage.getItem(KEY));
    if (!session?.token || (session.expiresAt && session.expiresAt <= Date.now())) return null;
    return session;
  } catch {
    return null;
  }
}

export function saveSession(session) {
  window.sessionStorage.setItem(KEY, JSON.stringify(session));
}

export function clearSession() {
  window.sessionStorage.removeItem(KEY);
}

/** A session from a token answer: kind "patient" (signed in) or "tablet" (a one-time code for one Task). */
export function newSession(kind, token, expiresIn, extra = {}) {
  return { kind, token, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : null, ...extra };
}
