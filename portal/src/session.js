// The signed-in session: the access token (and, on a clinic tablet, the one Task it opens) in this tab's
// sessionStorage only — never in a URL, gone when the tab closes.

/** A session kept under its own ``key`` in this tab's sessionStorage: ``load`` (null when absent or expired),
 * ``save``, ``clear``. The patient portal and the clinic pages each have one. */
export function sessionStore(key) {
  return {
    load() {
      try {
        const session = JSON.parse(window.sessionStorage.getItem(key));
        if (!session?.token || (session.expiresAt && session.expiresAt <= Date.now())) return null;
        return session;
      } catch {
        return null;
      }
    },
    save(session) {
      window.sessionStorage.setItem(key, JSON.stringify(session));
    },
    clear() {
      window.sessionStorage.removeItem(key);
    },
  };
}

/** When a token given ``expiresIn`` seconds from now expires (ms since the epoch), or null. */
export function expiryOf(expiresIn) {
  return expiresIn ? Date.now() + expiresIn * 1000 : null;
}

const portal = sessionStore("ryggrad.portal.session");
export const loadSession = portal.load;
export const saveSession = portal.save;
export const clearSession = portal.clear;

/** A session from a token answer: kind "patient" (signed in) or "tablet" (a one-time code for one Task). */
export function newSession(kind, token, expiresIn, extra = {}) {
  return { kind, token, expiresAt: expiryOf(expiresIn), ...extra };
}
