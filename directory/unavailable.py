"""503 answers when the database is unreachable or busy (`install_fault_handlers`, called by
`security.install`): a problem document under /api/, else the site's translated error page, else
a minimal page of this module's own (`unavailable_page`) that needs nothing else to render."""

from __future__ import annotations

import logging

import anyio.to_thread
from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.routing import Mount

from directory import i18n, writelock
from directory.config import RTL_LOCALES, Settings
from directory.db import utcnow
from directory.logging import redact, request_id
from directory.problem import is_api_path, problem_body

log = logging.getLogger("directory.security")

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

#: "The service is unavailable" in every interface language: the fallback page, used only when
#: the site's translated error page cannot be rendered.
UNAVAILABLE_TEXT: dict[str, tuple[str, str]] = {
    "en": (
        "Temporarily unavailable",
        "The directory cannot reach its database right now. Please try again in a minute.",
    ),
    "uk": (
        "Тимчасово недоступно",
        "Довідник зараз не може зʼєднатися зі своєю базою даних. Спробуйте ще раз за хвилину.",
    ),
    "ru": (
        "Временно недоступно",
        "Справочник сейчас не может подключиться к своей базе данных. Попробуйте через минуту.",
    ),
    "pl": (
        "Chwilowo niedostępne",
        "Katalog nie może teraz połączyć się ze swoją bazą danych. Spróbuj ponownie za minutę.",
    ),
    "de": (
        "Vorübergehend nicht verfügbar",
        "Das Verzeichnis erreicht gerade seine Datenbank nicht. Bitte versuchen Sie es in "
        "einer Minute erneut.",
    ),
    "ar": (
        "غير متاح مؤقتًا",
        "لا يستطيع الدليل الوصول إلى قاعدة بياناته الآن. يُرجى المحاولة مرة أخرى بعد دقيقة.",
    ),
}
RETRY_AFTER_SECONDS = 30


def unavailable_page(locale: str) -> str:
    title, sentence = UNAVAILABLE_TEXT.get(locale, UNAVAILABLE_TEXT["en"])
    direction = "rtl" if locale in RTL_LOCALES else "ltr"
    return (
        f'<!doctype html>\n<html lang="{locale}" dir="{direction}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title></head><body><main><h1>{title}</h1><p>{sentence}</p></main>"
        f"</body></html>\n"
    )


def _is_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, OperationalError | InterfaceError | PoolTimeout):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


#: SQLSTATEs of a PostgreSQL wait cut short by our timeouts: lock_not_available (lock_timeout),
#: query_canceled (statement_timeout), idle_in_transaction_session_timeout.
_PG_TIMEOUT_STATES = frozenset({"55P03", "57014", "25P03"})
#: Retry-After when the database is only busy (a lock wait or a statement timed out).
BUSY_RETRY_AFTER_SECONDS = 5


def _is_busy(exc: BaseException) -> bool:
    """A wait that timed out (the database is there, but held by someone else)."""
    if isinstance(exc, PoolTimeout):
        return True
    orig = getattr(exc, "orig", None)
    if getattr(orig, "sqlstate", None) in _PG_TIMEOUT_STATES:
        return True
    text = str(orig or "").lower()
    return "database is locked" in text or "database is busy" in text


def _busy_answer(request: Request, exc: BaseException) -> tuple[str, str, int] | None:
    """(reason, API detail, Retry-After) when a change timed out waiting for the database."""
    if request.method in _SAFE_METHODS or not _is_busy(exc):
        return None
    holder = (
        writelock.current(request.app.state.engine)
        if hasattr(request.app.state, "engine")
        else None
    )
    if holder is not None and holder.what == "import":
        seconds = holder.retry_after(utcnow())
        return (
            "import",
            "An import is publishing its changes and holds the database for writing. "
            f"Nothing was saved; try again in {seconds} seconds.",
            seconds,
        )
    return (
        "busy",
        "The directory is busy saving other changes. Nothing was saved; try again "
        f"in {BUSY_RETRY_AFTER_SECONDS} seconds.",
        BUSY_RETRY_AFTER_SECONDS,
    )


async def database_unavailable(request: Request, exc: Exception) -> Response:
    """503 for an unreachable or busy database (a lock or statement timeout; on SQLite, still
    locked — saying so when an import holds it): problem+json or a page, with Retry-After."""
    if not _is_unavailable(exc):
        raise exc
    reason = str(getattr(exc, "orig", None) or type(exc).__name__).strip().splitlines()[0]
    log.warning("database unavailable: %s: %s", type(exc).__name__, redact(reason)[:200])
    # A thread: reading who holds the lock is a (never waiting) database read.
    busy = await anyio.to_thread.run_sync(_busy_answer, request, exc)
    retry = busy[2] if busy else RETRY_AFTER_SECONDS
    headers = {"Retry-After": str(retry), "Cache-Control": "no-store"}
    if is_api_path(request.scope.get("path", "")):
        detail = busy[1] if busy else "The database is unavailable. Try again later."
        body, ctype = problem_body(503, "Service Unavailable", detail, request_id())
        return Response(body, status_code=503, media_type=ctype, headers=headers)
    try:
        # The site's own error page (translated, styled); it needs no database.
        from directory.web.errors import error_page

        return error_page(request, 503, headers, reason=busy[0] if busy else "")
    except Exception:  # noqa: BLE001 - the fallback below needs nothing but this module
        log.exception("error page failed; answering the minimal 503 page")
    settings: Settings | None = getattr(request.app.state, "settings", None)
    locale = i18n.request_locale(
        request.url.path,
        request.headers.get("accept-language"),
        settings.default_locale if settings else i18n.SOURCE_LOCALE,
    )
    headers["Content-Language"] = locale
    return HTMLResponse(unavailable_page(locale), status_code=503, headers=headers)


def install_fault_handlers(app: FastAPI) -> None:
    """Answer 503 when the database is unreachable, on the app and on every mounted FastAPI app
    (a mounted app's own error middleware would otherwise turn the error into a 500)."""
    apps = [app] + [
        r.app for r in app.routes if isinstance(r, Mount) and isinstance(r.app, FastAPI)
    ]
    for target in apps:
        for exc_class in (OperationalError, InterfaceError, PoolTimeout):
            if exc_class not in target.exception_handlers:
                target.add_exception_handler(exc_class, database_unavailable)
