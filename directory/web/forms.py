"""The anonymous "report a problem" form: no account and no cookie, so instead of a CSRF cookie
it carries a signed, timestamped token (bound to the service) and a honeypot field for bots."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException

from directory.errors import NotFound, TooManyRequests
from directory.i18n import lazy_gettext as _l
from directory.moderation import service as moderation
from directory.textinput import TextInputError, clean_text

log = logging.getLogger("directory.web")

#: What a reader can report, with the label they see.
REPORT_KINDS: tuple[tuple[str, Any], ...] = (
    ("wrong", _l("Information is wrong")),
    ("closed", _l("It is closed")),
    ("full", _l("It is full")),
    ("locked", _l("I found it locked")),
    ("no_answer", _l("Nobody answers the phone")),
    ("other", _l("Something else")),
)
TOKEN_SALT = "web.report"  # noqa: S105 (a signing salt, not a secret)
TOKEN_MAX_AGE = 24 * 3600  # a page left open overnight can still send its report
MAX_MESSAGE = 2000
HONEYPOT = "website"


@dataclass
class ReportResult:
    kind: str = ""
    message: str = ""
    errors: dict[str, Any] = field(default_factory=dict)


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=TOKEN_SALT)


def make_token(secret: str, service_id: uuid.UUID) -> str:
    return _serializer(secret).dumps(str(service_id))


def check_token(secret: str, token: str, service_id: uuid.UUID) -> bool:
    try:
        value = _serializer(secret).loads(token, max_age=TOKEN_MAX_AGE)
    except (SignatureExpired, BadSignature):
        return False
    return bool(value == str(service_id))


def submit_report(
    db: Session, *, form: FormData, service_id: uuid.UUID, secret: str, locale: str
) -> ReportResult:
    """Validate the form and hand the report to moderation. A filled honeypot is silently
    accepted and dropped, so a bot learns nothing."""

    kind = str(form.get("kind", ""))
    raw_message = str(form.get("message", ""))
    result = ReportResult(kind=kind, message=raw_message[:MAX_MESSAGE])
    if kind not in dict(REPORT_KINDS):
        result.errors["kind"] = _l("Choose what is wrong.")
    try:
        message = clean_text(raw_message, max_length=MAX_MESSAGE) if raw_message.strip() else ""
    except TextInputError:
        result.errors["message"] = _l(
            "Please shorten the text to 2000 characters and leave out special characters."
        )
        message = ""
    if kind == "other" and not message and "message" not in result.errors:
        result.errors["message"] = _l("Please describe the problem in a few words.")
    if not check_token(secret, str(form.get("token", "")), service_id):
        result.errors["form"] = _l("This form has expired. Please send it again.")
    if result.errors:
        return result
    if str(form.get(HONEYPOT, "")).strip():
        return result
    _record(db, service_id=service_id, kind=kind, message=message, locale=locale)
    return result


def _record(db: Session, *, service_id: uuid.UUID, kind: str, message: str, locale: str) -> None:
    """Hand the report to the moderation queue (the one write path)."""

    try:
        moderation.report(db, service_id=service_id, kind=kind, text=message or None, locale=locale)
    except TooManyRequests:
        # Many readers reported this service within the hour: the moderators already know.
        log.info("report not stored: reports on this service are rate-limited")
    except NotFound:
        raise HTTPException(status_code=404) from None
