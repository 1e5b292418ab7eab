"""LabTour: booking and tour planning for the VISURGIS Mobile InnovationLab."""
from __future__ import annotations

import os
import tomllib
from pathlib import Path

from babel import Locale
from flask import Flask, has_request_context, request, session
from werkzeug.routing import IntegerConverter

from .extensions import babel, csrf, db, limiter, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent
SUPPORTED_LANGUAGES = ("de", "en")


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: config.toml, then LABTOUR_* environment, then test_config."""
    app = Flask(
        __name__,
        instance_path=os.environ.get("LABTOUR_INSTANCE_PATH", str(ROOT / "instance")),
        instance_relative_config=False,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    config_file = os.environ.get("LABTOUR_CONFIG", str(ROOT / "config.toml"))
    app.config.from_file(config_file, load=tomllib.load, text=False)
    app.config.from_prefixed_env("LABTOUR")
    if os.environ.get("DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    if test_config:
        app.config.update(test_config)
    _refuse_unsafe_production(app)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    uri = app.config.get("SQLALCHEMY_DATABASE_URI") or f"sqlite:///{Path(app.instance_path) / 'labtour.sqlite'}"
    if uri.startswith("postgresql://"):
        uri = "postgresql+psycopg://" + uri[len("postgresql://"):]
    app.config["SQLALCHEMY_DATABASE_URI"] = uri
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(Path(__file__).parent / "translations")
    app.config["RATELIMIT_HEADERS_ENABLED"] = True

    app.url_map.converters["int"] = DatabaseId
    db.init_app(app)
    with app.app_context():
        _ping_after_idle(db.engine, float(app.config.get("DB_PING_IDLE_S", 10)))
        if uri.startswith("sqlite"):
            _tune_sqlite(db.engine)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    babel.init_app(app, locale_selector=_select_locale)
    limiter.init_app(app)

    from . import models  # noqa: F401  (registers the tables)
    from .auth import init_auth
    from .booking.routes import bp as booking_bp
    from .cli import register_cli
    from .security import init_security
    from .staff.routes import bp as staff_bp
    from .feeds.routes import bp as feeds_bp, register_cli as register_feed_cli
    from .api.routes import bp as api_bp
    from .host.routes import bp as host_bp
    from .reports.routes import bp as reports_bp
    from .tour.routes import bp as tour_bp
    from .web import bp as web_bp, init_errors

    import flask_babel
    app.jinja_env.filters.update(format_date=flask_babel.format_date, format_datetime=flask_babel.format_datetime,
                                 format_decimal=flask_babel.format_decimal)
    app.jinja_env.globals.update(get_locale=flask_babel.get_locale)
    init_auth(app)
    init_security(app)
    from .logs import init_logging
    init_logging(app)
    init_errors(app)
    from .pages import init_pages
    init_pages(app)
    app.register_blueprint(web_bp)
    app.register_blueprint(booking_bp)
    app.register_blueprint(staff_bp)
    app.register_blueprint(tour_bp)
    app.register_blueprint(feeds_bp)
    app.register_blueprint(host_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(reports_bp)
    register_feed_cli(app)
    register_cli(app)
    _init_scheduler(app)
    from .feeds.fastpath import ConditionalFeeds
    app.wsgi_app = ConditionalFeeds(app.wsgi_app)
    return app


class DatabaseId(IntegerConverter):
    """`<int:…>` in a URL: larger numbers than a database key can hold are a plain 404, not an overflow."""
    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


DEFAULT_SECRET = "dev-only-insecure-secret-change-me"


def _refuse_unsafe_production(app: Flask) -> None:
    """With PRODUCTION set, start only with a real secret key, and send cookies over HTTPS only."""
    if not app.config.get("PRODUCTION"):
        return
    secret = str(app.config.get("SECRET_KEY") or "")
    if secret == DEFAULT_SECRET or len(secret) < 32:
        raise RuntimeError("LabTour refuses to start in production with the default or a short SECRET_KEY: "
                           "set LABTOUR_SECRET_KEY to a random value of at least 32 characters "
                           "(python -c 'import secrets; print(secrets.token_urlsafe(48))').")
    app.config["SESSION_COOKIE_SECURE"] = True


def _init_scheduler(app: Flask) -> None:
    """In the embedded default the serving process runs the scheduler, started by its first request."""
    from scheduler.cli import register as register_scheduler_cli

    register_scheduler_cli(app)
    if app.config["SCHEDULER"]["mode"] != "inprocess" or app.testing:
        return
    started = []

    @app.before_request
    def _start_scheduler():
        if not started:
            from scheduler import ensure_started
            ensure_started(app)
            started.append(True)


def _ping_after_idle(engine, idle_s: float) -> None:
    """Check that a pooled connection still lives only when it lay idle longer than idle_s (a database restart, a
    firewall's idle timeout): pool_pre_ping would cost a round trip on every request. A connection that died in
    use anyway makes one request fail with the 503 page, and the pool is renewed."""
    from time import monotonic

    from sqlalchemy import event, exc

    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_conn, record):
        record.info["idle_since"] = monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_conn, record, _proxy):
        since = record.info.get("idle_since")
        if since is None or monotonic() - since < idle_s:
            return
        cursor = dbapi_conn.cursor()
        try:
            cursor.execute("SELECT 1")
            dbapi_conn.rollback()
        except Exception as e:
            raise exc.DisconnectionError() from e
        finally:
            try:
                cursor.close()
            except Exception:
                pass


def _tune_sqlite(engine) -> None:
    """The web app and the in-process scheduler write to one file: wait for the lock instead of failing. Foreign
    keys are checked as on PostgreSQL (SQLite leaves that off unless asked)."""
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record):
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA busy_timeout = 30000")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.close()


_LOCALES = {lang: Locale.parse(lang) for lang in SUPPORTED_LANGUAGES}


def _select_locale() -> Locale:
    """German unless the visitor chose English (remembered in the session). Returns the parsed Locale, which
    Flask-Babel would otherwise parse anew (with a file lookup) on every request."""
    if not has_request_context():
        return _LOCALES["de"]
    lang = session.get("lang")
    if lang in _LOCALES:
        return _LOCALES[lang]
    if request and request.args.get("lang") in _LOCALES:
        return _LOCALES[request.args["lang"]]
    return _LOCALES["de"]
