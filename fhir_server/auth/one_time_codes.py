"""One-time codes for filling in a form on a clinic tablet (registry rule N8).

Staff issue a code for one Task (``Task/[id]/$issue-code``); the patient types it on the tablet, which redeems it
(``$redeem-code``) for a session token that opens exactly that Task: its Questionnaire, the responses to it and
the patient's consent, nothing else. A code is short (8 letters and digits without look-alikes, ~40 bits), lives
minutes to an hour, and redeems once: the redemption is one conditional UPDATE, so two tablets racing for a code
cannot both win. Issuing a new code for a Task voids its unredeemed ones. Guessing is bounded by the redemption
rate limit (per address and overall) and by how few codes are live at a time.

Only keyed digests of codes and session tokens are stored, so neither can be read back from the database. Times are
the server's clock (which tests may move).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, insert, or_, select, update

from fhir_server.auth.principal import Principal
from fhir_server.auth.scopes import parse_scopes
from fhir_server.storage.schema import access_code

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud and typed without mistakes
LENGTH = 8
SESSION_PREFIX = "rgc_"  # an opaque session token, told apart from JWTs (which start "ey")
#: How long spent codes and ended sessions are kept before they are purged.
KEEP = timedelta(days=1)


@dataclass(frozen=True)
class IssuedCode:
    code: str  # as shown to staff: ABCD-EFGH
    expires: datetime


@dataclass(frozen=True)
class TabletSession:
    token: str
    expires: datetime
    task_id: str
    patient_id: str


@dataclass(frozen=True)
class SessionGrant:
    task_id: str
    patient_id: str
    expires: datetime


#: What a tablet session may do: read its Task, find the Questionnaire, write the response and the consent.
TABLET_SCOPES = "patient/Task.r patient/Questionnaire.rs patient/QuestionnaireResponse.crus patient/Consent.crs"


def tablet_principal(grant: SessionGrant) -> Principal:
    """The caller a tablet session stands for: the Task's patient, restricted to that one Task."""
    return Principal(
        role="patient",
        client_id="clinic-tablet",
        permissions=parse_scopes(TABLET_SCOPES),
        task=grant.task_id,
        patient=grant.patient_id,
    )


def normalise(code: str) -> str | None:
    """The code as stored (upper case, without spaces or dashes), or None if it cannot be a code."""
    compact = "".join(code.split()).replace("-", "").upper()
    if len(compact) != LENGTH or any(c not in ALPHABET for c in compact):
        return None
    return compact


def _epoch(moment: datetime) -> float:
    """Epoch seconds of the server clock's naive UTC (or an aware) time."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


class OneTimeCodes:
    def __init__(self, key: bytes, code_lifetime_s: int, session_lifetime_s: int) -> None:
        self.key = key
        self.code_lifetime = timedelta(seconds=code_lifetime_s)
        self.session_lifetime = timedelta(seconds=session_lifetime_s)

    def _digest(self, kind: str, text: str) -> str:
        return hmac.new(self.key, f"{kind}:{text}".encode(), hashlib.sha256).hexdigest()

    def issue(self, conn: Any, task_id: str, patient_id: str, now: datetime) -> IssuedCode:
        """A new code for ``task_id``; the Task's unredeemed codes are void from now on."""
        t = access_code.c
        conn.execute(
            delete(access_code).where(
                or_(
                    and_(t.task_id == task_id, t.redeemed_at.is_(None)),
                    and_(t.expires_at < _epoch(now - KEEP), t.redeemed_at.is_(None)),
                    t.session_expires_at < _epoch(now - KEEP),
                )
            )
        )
        code = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
        expires = now + self.code_lifetime
        conn.execute(
            insert(access_code).values(
                digest=self._digest("code", code),
                task_id=task_id,
                patient_id=patient_id,
                issued_at=_epoch(now),
                expires_at=_epoch(expires),
            )
        )
        return IssuedCode(f"{code[:4]}-{code[4:]}", expires)

    def redeem(self, conn: Any, code: str, now: datetime) -> TabletSession | None:
        """A session for the code's Task, once; None for a wrong, expired or spent code."""
        compact = normalise(code)
        if compact is None:
            return None
        t = access_code.c
        digest = self._digest("code", compact)
        token = SESSION_PREFIX + secrets.token_urlsafe(32)
        expires = now + self.session_lifetime
        claimed = conn.execute(
            update(access_code)
            .where(t.digest == digest, t.redeemed_at.is_(None), t.expires_at > _epoch(now))
            .values(
                redeemed_at=_epoch(now),
                session_digest=self._digest("session", token),
                session_expires_at=_epoch(expires),
            )
        )
        if claimed.rowcount != 1:
            return None
        row = conn.execute(select(t.task_id, t.patient_id).where(t.digest == digest)).one()
        return TabletSession(token, expires, row.task_id, row.patient_id)

    def session(self, conn: Any, token: str, now: datetime) -> SessionGrant | None:
        """What a session token opens while it lasts; None for an unknown or ended one."""
        if not token.startswith(SESSION_PREFIX):
            return None
        t = access_code.c
        row = conn.execute(
            select(t.task_id, t.patient_id, t.session_expires_at).where(
                t.session_digest == self._digest("session", token), t.session_expires_at > _epoch(now)
            )
        ).first()
        if row is None:
            return None
        expires = datetime.fromtimestamp(row.session_expires_at, UTC).replace(tzinfo=None)
        return SessionGrant(row.task_id, row.patient_id, expires)

    def end_sessions(self, conn: Any, task_id: str, now: datetime) -> None:
        """End the Task's tablet sessions now (the form was sent, or the Task closed)."""
        t = access_code.c
        conn.execute(
            update(access_code)
            .where(t.task_id == task_id, t.session_expires_at > _epoch(now))
            .values(session_expires_at=_epoch(now))
        )
