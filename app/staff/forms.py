"""Forms of the staff area."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField
from wtforms import (BooleanField, DateField, FloatField, IntegerField, PasswordField, SelectField, StringField,
                     TextAreaField)
from wtforms.validators import EqualTo, InputRequired, Length, NumberRange, Optional, Regexp

from ..models import BlackoutKind, OrgKind, RequestStatus
from ..forms import LabForm

STATUS_LABELS = {
    RequestStatus.REQUESTED.value: _l("angefragt"), RequestStatus.APPROVED.value: _l("angenommen"),
    RequestStatus.PLANNED.value: _l("eingeplant"), RequestStatus.CONFIRMED.value: _l("bestätigt"),
    RequestStatus.COMPLETED.value: _l("durchgeführt"), RequestStatus.DECLINED.value: _l("abgelehnt"),
    RequestStatus.CANCELLED.value: _l("storniert"), RequestStatus.WAITLISTED.value: _l("Warteliste"),
}
KIND_LABELS = {OrgKind.BBS.value: _l("BBS"), OrgKind.KMU.value: _l("KMU"), OrgKind.OTHER.value: _l("andere")}
GEO_LABELS = {"manual": _l("von Hand gesetzt"), "geocoder": _l("Adresssuche (Nominatim)"),
              "postcode": _l("Mittelpunkt der Postleitzahl")}
TOUR_STATUS_LABELS = {"draft": _l("Entwurf"), "published": _l("veröffentlicht"), "archived": _l("archiviert")}
BLACKOUT_LABELS = {BlackoutKind.MAINTENANCE.value: _l("Wartung"), BlackoutKind.ABSENCE.value: _l("Abwesenheit"),
                   BlackoutKind.OTHER.value: _l("Sonstiges")}


class LoginForm(LabForm):
    email = StringField(_l("E-Mail"), validators=[InputRequired(_l("Bitte geben Sie Ihre E-Mail-Adresse an.")),
                                                  Length(max=254)])
    password = PasswordField(_l("Passwort"), validators=[InputRequired(_l("Bitte geben Sie Ihr Passwort an.")),
                                                         Length(max=200)])


class ForgotForm(LabForm):
    email = StringField(_l("E-Mail"), validators=[InputRequired(_l("Bitte geben Sie Ihre E-Mail-Adresse an.")),
                                                  Length(max=254)])


class ResetForm(LabForm):
    password = PasswordField(_l("Neues Passwort"), validators=[
        InputRequired(_l("Bitte geben Sie ein neues Passwort an.")),
        Length(10, 200, _l("Mindestens 10 Zeichen, bitte."))])
    confirm = PasswordField(_l("Neues Passwort wiederholen"), validators=[
        EqualTo("password", _l("Die beiden Eingaben stimmen nicht überein."))])


class FilterForm(LabForm):
    class Meta:
        csrf = False

    status = SelectField(_l("Status"), validators=[Optional()],
                         choices=[("", _l("alle"))] + list(STATUS_LABELS.items()))
    kind = SelectField(_l("Art"), validators=[Optional()], choices=[("", _l("alle"))] + list(KIND_LABELS.items()))
    district = SelectField(_l("Landkreis"), validators=[Optional()])
    date_from = DateField(_l("Zeitraum von"), validators=[Optional()])
    date_to = DateField(_l("bis"), validators=[Optional()])
    q = StringField(_l("Suche"), validators=[Optional(), Length(max=100)])


class DecisionForm(LabForm):
    action = SelectField(choices=[("approve", _l("Annehmen")), ("waitlist", _l("Auf die Warteliste")),
                                  ("decline", _l("Ablehnen"))])
    reason = TextAreaField(_l("Begründung (wird der anfragenden Person mitgeteilt)"),
                           validators=[Length(max=1000, message=_l("Höchstens %(max)d Zeichen."))])


class BlackoutForm(LabForm):
    start = DateField(_l("von"), validators=[InputRequired(_l("Bitte ein Datum angeben."))])
    end = DateField(_l("bis"), validators=[InputRequired(_l("Bitte ein Datum angeben."))])
    kind = SelectField(_l("Art"), choices=list(BLACKOUT_LABELS.items()))
    reason = StringField(_l("Grund"), validators=[InputRequired(_l("Bitte einen Grund angeben.")), Length(max=200)])

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if ok and self.end.data < self.start.data:
            self.end.errors = [str(_l("Das Ende liegt vor dem Beginn."))]
            ok = False
        return ok


class PinForm(LabForm):
    lat = FloatField(_l("Breite (z. B. 53.3326)"), validators=[InputRequired(_l("Bitte eine Zahl angeben.")),
                                                               NumberRange(47, 56, _l("Bitte 47 bis 56."))])
    lon = FloatField(_l("Länge (z. B. 8.4631)"), validators=[InputRequired(_l("Bitte eine Zahl angeben.")),
                                                             NumberRange(5, 16, _l("Bitte 5 bis 16."))])


class ImportForm(LabForm):
    file = FileField(_l("Kalenderdatei (.ics)"), validators=[FileAllowed(["ics"], _l("Bitte eine .ics-Datei wählen."))])
    url = StringField(_l("oder Adresse eines Kalenders (https://…)"), validators=[Optional(), Length(max=500)])

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if ok and not self.file.data and not self.url.data:
            self.url.errors = [str(_l("Bitte eine Datei wählen oder eine Adresse angeben."))]
            ok = False
        return ok


class DeleteForm(LabForm):
    pass


class ModuleForm(LabForm):
    code = StringField(_l("Kürzel"), validators=[InputRequired(), Length(max=40), Regexp(
        r"^[a-z0-9-]+$", message=_l("Nur Kleinbuchstaben, Ziffern und Bindestriche."))])
    name_de = StringField(_l("Name (deutsch)"), validators=[InputRequired(), Length(max=120)])
    name_en = StringField(_l("Name (englisch)"), validators=[InputRequired(), Length(max=120)])
    description_de = TextAreaField(_l("Beschreibung (deutsch)"), validators=[Length(max=2000)])
    description_en = TextAreaField(_l("Beschreibung (englisch)"), validators=[Length(max=2000)])
    position = IntegerField(_l("Reihenfolge"), default=0, validators=[InputRequired(), NumberRange(0, 999)])
    active = BooleanField(_l("im Anfrageformular anbieten"), default=True)
