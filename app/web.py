"""Start page, privacy page, language switch and friendly error pages."""
from __future__ import annotations

from flask import Blueprint, Flask, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa_exc

from . import SUPPORTED_LANGUAGES
from .extensions import db

bp = Blueprint("web", __name__)


@bp.route("/")
def index():
    return render_template("index.html")


@bp.route("/healthz")
def healthz():
    """For the load balancer and monitoring: the database answers, and when the scheduler last said so."""
    from flask import current_app, jsonify
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    from scheduler.lock import heartbeat_age

    try:
        db.session.execute(text("SELECT 1"))
        age = heartbeat_age()
        database = "ok"
    except SQLAlchemyError:
        db.session.rollback()
        database, age = "unreachable", None
    stale = float(current_app.config["SCHEDULER"]["lock_stale_s"])
    scheduler = "never ran" if age is None else ("ok" if age <= stale else "stale")
    body = {"database": database, "scheduler": scheduler,
            "scheduler_heartbeat_age_s": None if age is None else round(age, 1)}
    return jsonify(body), 200 if database == "ok" else 503


@bp.route("/datenschutz")
def privacy():
    from urllib.parse import urlsplit

    from flask import current_app

    tiles = urlsplit(current_app.config.get("TILE_URL", "")).netloc.replace("{s}.", "")
    return render_template("privacy.html", tile_host=tiles)


@bp.route("/sprache/<lang>")
def language(lang: str):
    if lang in SUPPORTED_LANGUAGES:
        session["lang"] = lang
    target = request.args.get("next", "")
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        target = url_for("web.index")
    return redirect(target)


def init_errors(app: Flask) -> None:
    def page(code: int, title: str, text: str):
        if request.path.startswith("/api/"):  # the API answers in JSON, also when routing itself fails
            from flask import jsonify
            return jsonify({"message": text}), code
        return render_template("error.html", code=code, title=title, text=text), code

    @app.errorhandler(CSRFError)
    def _csrf(_e):
        return page(400, _("Sitzung abgelaufen"), _("Das Formular war zu lange geöffnet oder die Sitzung ist "
                                                     "abgelaufen. Bitte gehen Sie zurück, laden Sie die Seite neu "
                                                     "und senden Sie erneut."))

    @app.errorhandler(400)
    def _bad(_e):
        return page(400, _("Ungültige Anfrage"), _("Die Anfrage konnte nicht gelesen werden."))

    @app.errorhandler(403)
    def _forbidden(_e):
        return page(403, _("Kein Zugriff"), _("Für diese Seite fehlen Ihnen die Rechte."))

    @app.errorhandler(404)
    def _missing(_e):
        return page(404, _("Nicht gefunden"), _("Diese Seite gibt es nicht, oder der Link ist nicht (mehr) gültig."))

    @app.errorhandler(405)
    def _method(_e):
        return page(405, _("Nicht erlaubt"), _("Diese Aktion ist hier nicht möglich."))

    @app.errorhandler(429)
    def _limited(_e):
        return page(429, _("Zu viele Anfragen"), _("Bitte warten Sie einen Moment und versuchen Sie es dann erneut."))

    @app.errorhandler(sa_exc.OperationalError)
    def _database_away(_e):
        """The database restarted or is unreachable: nothing was saved, and trying again soon will work."""
        from flask import g
        from flask_login import AnonymousUserMixin

        try:
            db.session.rollback()
        except sa_exc.SQLAlchemyError:
            pass
        g._login_user = AnonymousUserMixin()  # the page must not ask the database who is logged in
        return page(503, _("Kurz nicht erreichbar"), _("Die Datenbank ist gerade nicht erreichbar. Ihre Eingaben "
                                                       "wurden nicht gespeichert. Bitte versuchen Sie es in einer "
                                                       "Minute erneut."))

    @app.errorhandler(500)
    def _error(_e):
        db.session.rollback()
        return page(500, _("Fehler"), _("Etwas ist schiefgegangen. Ihre Eingaben wurden nicht gespeichert."))
