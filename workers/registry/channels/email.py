"""The e-mail channel: a short message that a form is waiting, with a link to the portal and to the patient's
rights — and no health data: no clinic, no form, no name, no date of an appointment. The portal shows the rest
after sign-in."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from fhir_server.settings import Settings
from workers.registry.channels import Dispatch, Permanent, Transient

SUBJECT = "Du har fått et nytt skjema"
REMINDER_SUBJECT = "Påminnelse: du har et skjema som venter"
BODY = """Hei,

du har fått et nytt skjema å fylle ut. Logg inn for å se det:
{portal}

Dine rettigheter (innsyn, retting, sletting, reservasjon): {portal}/rettigheter

Denne e-posten kan ikke besvares.
"""


def address(dispatch: Dispatch) -> str | None:
    for telecom in (dispatch.patient or {}).get("telecom") or []:
        if telecom.get("system") == "email" and telecom.get("value") and telecom.get("use") != "old":
            return str(telecom["value"])
    return None


class EmailChannel:
    name = "email"
    medium = "WRITTEN"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def applies(self, dispatch: Dispatch) -> bool:
        return bool(self.settings.registry_smtp_host) and address(dispatch) is not None

    def message(self, dispatch: Dispatch) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.settings.registry_mail_from
        message["To"] = address(dispatch) or ""
        message["Subject"] = REMINDER_SUBJECT if dispatch.kind == "reminder" else SUBJECT
        message.set_content(BODY.format(portal=self.settings.registry_portal_url.rstrip("/")))
        return message

    def send(self, dispatch: Dispatch) -> None:
        settings = self.settings
        try:
            with smtplib.SMTP(str(settings.registry_smtp_host), settings.registry_smtp_port, timeout=10) as smtp:
                if settings.registry_smtp_starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if settings.registry_smtp_username:
                    smtp.login(settings.registry_smtp_username, settings.registry_smtp_password or "")
                smtp.send_message(self.message(dispatch))
        except smtplib.SMTPRecipientsRefused as exc:
            raise Permanent("the e-mail address was refused") from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise Transient(f"the mail server could not take the message ({type(exc).__name__})") from exc
