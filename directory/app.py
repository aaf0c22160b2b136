"""The application factory: settings in, a FastAPI app out (middleware, routers, static files)."""

from __future__ import annotations

import datetime as dt
import logging

from fastapi import FastAPI
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError
from starlette.types import ASGIApp

from directory import __version__, security
from directory.alerts.watcher import health
from directory.api.routes import mount_api
from directory.config import Settings
from directory.db import make_engine, make_sessionmaker
from directory.exchange.profile.routes import router as profile_router
from directory.hsds_api.app import mount_hsds
from directory.listings.texts import set_fallback_locales
from directory.logging import configure_logging
from directory.manage.routes import router as manage_router
from directory.migrate import schema_is_current
from directory.replicas import WalCookie, build_router
from directory.runtime import Admission, HeadAsGet, serving, thread_count
from directory.web.routes import mount_web

log = logging.getLogger("directory")


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> FastAPI:
    """Build the app. `engine` may be injected (tests share one per session)."""
    settings = settings or Settings()
    app = FastAPI(
        title="aid-directory",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.settings = settings
    # Listing texts missing in the reader's language: which languages come next.
    set_fallback_locales(settings.fallback_locales.split(","))
    app.state.engine = engine or make_engine(
        settings.database_url, timeouts=settings.db_timeouts, pooler=settings.database_pooler
    )
    app.state.sessionmaker = make_sessionmaker(app.state.engine)
    # Anonymous reads to streaming replicas, when configured (directory.replicas).
    app.state.replicas = build_router(
        settings.replica_urls,
        make_engine=make_engine,
        make_sessionmaker=make_sessionmaker,
        max_lag=settings.replica_max_lag_seconds,
        check_interval=settings.replica_check_seconds,
        connect_timeout=min(2.0, settings.db_pool_timeout),
        timeouts=settings.db_timeouts,
        pooler=settings.database_pooler,
    )

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> PlainTextResponse:
        """Alive: the process answers. Never touches the database (and so, being async, needs
        no request thread: it answers while every thread is busy)."""
        return PlainTextResponse("ok")

    @app.get("/readyz", include_in_schema=False)
    def readyz() -> JSONResponse:
        """Ready: the database answers and its schema is at the migrations' head."""
        try:
            with app.state.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            current = schema_is_current(app.state.engine)
        except SQLAlchemyError:
            return JSONResponse({"database": "unreachable"}, status_code=503)
        if not current:
            return JSONResponse({"database": "ok", "schema": "behind"}, status_code=503)
        return JSONResponse({"database": "ok", "schema": "current", **_alert_status(app)})

    _include_routers(app)
    # At most `threads` requests at once, so that a started request always gets a thread and
    # can finish its transaction (directory.runtime, "Admission").
    app.add_middleware(Admission, slots=thread_count(settings.threads))
    app.add_middleware(HeadAsGet)  # outside the GZip one: the length is the compressed GET's
    if app.state.replicas is not None:
        app.add_middleware(
            WalCookie, secure=settings.https
        )  # read-your-writes (directory.replicas)
    configure_logging(settings.log_format)
    security.install(app, settings)  # headers, limits, request ids, access log, 503 on DB faults
    return app


def _alert_status(app: FastAPI) -> dict[str, object]:
    """The alert feeds' health for /readyz (informative: a silent feed does not make the app
    unready, the pages say the alert status is unknown)."""

    from sqlalchemy.orm import Session

    from directory.alerts.sources import parse_feeds

    settings = app.state.settings
    feeds = parse_feeds(settings.alert_feeds)
    if not feeds:
        return {}
    with Session(app.state.engine) as session:
        rows = health(
            session, feeds, stale_after=dt.timedelta(seconds=settings.alert_stale_after_seconds)
        )
    return {
        "alert_feeds": [
            {
                "url": h.url,
                "state": "stale" if h.stale else "ok",
                "failures": h.failures,
                "last_success_at": h.last_success_at.isoformat() if h.last_success_at else None,
            }
            for h in rows
        ]
    }


def create_served_app() -> ASGIApp:
    """What each `aid-directory serve` worker runs: `create_app()` tuned for serving (heap frozen
    for the garbage collector, request threads bounded; `directory.runtime`)."""

    app = create_app()
    return serving(app, threads=thread_count(app.state.settings.threads))


def _include_routers(app: FastAPI) -> None:
    # Each adapter owns its router; the order matters only for overlapping paths.

    mount_api(app)
    app.include_router(profile_router)  # /hsds/profile/ (the HSDS API at /hsds/ declares it)
    mount_hsds(app)  # the HSDS API: every other path under /hsds
    app.include_router(manage_router)
    mount_web(app)
