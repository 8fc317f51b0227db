// The signed-in staff member's session: the access token, role, HPR number and unit in this tab's sessionStorage
// only (its own key, apart from a patient session) — never in a URL, gone when the tab closes.
import { expiryOf, sessionStore } from "../session.js";

const staff = sessionStore("ryggrad.clinic.session");
export const loadStaffSession = staff.load;
export const saveStaffSession = staff.save;
export const clearStaffSession = staff.clear;

/** A session from a token answer, for ``role`` (clinician, clerk) with HPR number ``hpr`` at unit ``org``. */
export function newStaffSession({ role, hpr, org }, answer) {
  return { role, hpr, org, token: answer.access_token, expiresAt: expiryOf(answer.expires_in) };
}

export const ROLE_NAMES = { clinician: "Behandler", clerk: "Merkantil" };
