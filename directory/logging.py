"""Logs: plain text or JSON (`DIRECTORY_LOG_FORMAT=json`), every line carrying the request id.

Privacy rule: the access log keeps the method, the route *template* (`/{locale}/services/{id}`,
never the query string), the status, the duration and the request id — never an IP address,
coordinates, a search text, a cookie or a header. SQL parameters are cut out of error reports
(they can hold a search text or coordinates), in our handlers and in uvicorn's.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
from contextvars import ContextVar
from typing import Any

_request_id: ContextVar[str] = ContextVar("directory_request_id", default="-")

ACCESS_LOGGER = "directory.access"
_HANDLER_NAME = "directory-handler"
#: SQLAlchemy appends "[parameters: ...]" (and psycopg "DETAIL: Key (...)=(...)") to errors.
_SQL_PARAMS = re.compile(r"\[parameters: .*?\](?=\n|$)|DETAIL: .*?(?=\n|$)", re.DOTALL)
_STANDARD_ATTRS = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


def request_id() -> str:
    """The id of the request being handled ("-" outside a request)."""
    return _request_id.get()


def set_request_id(value: str) -> Any:
    return _request_id.set(value)


def reset_request_id(token: Any) -> None:
    _request_id.reset(token)


def redact(text: str) -> str:
    """Remove SQL parameter lists and constraint details from an error text."""
    return _SQL_PARAMS.sub("[parameters redacted]", text)


class RedactFilter(logging.Filter):
    """Adds `request_id` to every record and cuts SQL parameters out of messages and tracebacks."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = _request_id.get()
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        msg = record.getMessage()
        redacted = redact(msg)
        if redacted != msg:
            record.msg, record.args = redacted, None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, request_id and any `extra=` fields."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": getattr(record, "request_id", _request_id.get()),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and key not in out and not key.startswith("_"):
                out[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            out["exc"] = redact(self.formatException(record.exc_info))
        elif record.exc_text:
            out["exc"] = record.exc_text
        return json.dumps(out, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")


def configure_logging(log_format: str = "text", *, stream: Any = None) -> logging.Handler:
    """Install one handler on the `directory` logger (idempotent) and redact uvicorn's errors."""
    logger = logging.getLogger("directory")
    for old in [h for h in logger.handlers if h.get_name() == _HANDLER_NAME]:
        logger.removeHandler(old)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(RedactFilter())
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    # Propagate so test harnesses (caplog) see records; in production the root logger has no
    # handler, so nothing is printed twice.
    logger.propagate = True
    for name in ("uvicorn", "uvicorn.error"):
        other = logging.getLogger(name)
        if not any(isinstance(f, RedactFilter) for f in other.filters):
            other.addFilter(RedactFilter())
        if log_format == "json":
            for h in other.handlers:
                h.setFormatter(JsonFormatter())
    return handler


def log_access(*, method: str, path: str, status: int, duration_ms: float) -> None:
    """One access-log line. `path` must be a route template or a query-less path."""
    logging.getLogger(ACCESS_LOGGER).info(
        "%s %s %s %.1fms",
        method,
        path,
        status,
        duration_ms,
        extra={
            "method": method,
            "path": path,
            "status": status,
            "duration_ms": round(duration_ms, 1),
        },
    )
