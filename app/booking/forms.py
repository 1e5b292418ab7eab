"""The public request form and the host's change form."""
from __future__ import annotations

from datetime import date

from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms import (BooleanField, DateField, FieldList, FormField, HiddenField, IntegerField, SelectField,
                     StringField, TextAreaField)
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional, Regexp

from ..forms import DecimalCommaField, LabForm, MultiCheckboxField, SubForm
from ..models import OrgKind
from ..pages import per_response
from ..services import blackouts, region, sitecheck

HALF_DAY_CHOICES = [
    (1, _l("Halber Tag (Kurzbesuch, z. B. für Unternehmen)")),
    (2, _l("1 Tag")), (4, _l("2 Tage")), (6, _l("3 Tage")), (8, _l("4 Tage")), (10, _l("5 Tage")),
]
KIND_CHOICES = [(OrgKind.BBS.value, _l("Berufsbildende Schule (BBS)")),
                (OrgKind.KMU.value, _l("Unternehmen (KMU)")), (OrgKind.OTHER.value, _l("Andere Einrichtung"))]
SURFACE_CHOICES = [("paved", _l("befestigt und tragfähig (Asphalt, Pflaster)")),
                   ("unpaved", _l("unbefestigt (Rasen, Schotter)")), ("unknown", _l("weiß ich nicht"))]
POWER_CHOICES = [("cee32", _l("400 V CEE 32 A")), ("cee16", _l("400 V CEE 16 A")),
                 ("schuko", _l("230 V Schuko")), ("none", _l("kein Anschluss"))]
PERMIT_CHOICES = [("no", _l("nein, Privat- oder Schulgelände")), ("yes", _l("ja")), ("unknown", _l("weiß ich nicht"))]
PHONE = Regexp(r"^[0-9+()/ \-]{5,30}$", message=_l("Bitte geben Sie eine Telefonnummer an (Ziffern, +, Leerzeichen)."))


class WindowForm(SubForm):
    start = DateField(_l("von"), validators=[Optional()])
    end = DateField(_l("bis"), validators=[Optional()])


class VisitDetailsForm(LabForm):
    """What a host may still change through the manage link: dates, groups, site facts."""
    windows = FieldList(FormField(WindowForm), min_entries=3, max_entries=3)
    half_days = SelectField(_l("Aufenthaltsdauer"), choices=HALF_DAY_CHOICES, coerce=int, default=4)
    classes_per_day = IntegerField(_l("Klassen oder Gruppen pro Tag"), default=3, validators=[
        InputRequired(_l("Bitte geben Sie die Zahl der Gruppen an.")),
        NumberRange(1, 8, _l("Bitte eine Zahl von 1 bis 8 (je Gruppe eine 90-Minuten-Session)."))])
    participants = IntegerField(_l("Teilnehmende insgesamt"), validators=[
        InputRequired(_l("Bitte geben Sie die Zahl der Teilnehmenden an.")),
        NumberRange(1, 200, _l("Bitte eine Zahl von 1 bis 200."))])
    occupations = TextAreaField(_l("Ausbildungsberufe oder Abteilungen"), validators=[
        Length(max=1000, message=_l("Höchstens %(max)d Zeichen."))])
    message = TextAreaField(_l("Nachricht an das Lab-Team"), validators=[
        Length(max=2000, message=_l("Höchstens %(max)d Zeichen."))])

    space_length_m = DecimalCommaField(_l("Freie Fläche: Länge (m)"), validators=[
        InputRequired(_l("Bitte geben Sie die Länge an.")), NumberRange(0, 500, _l("Bitte 0 bis 500 m."))])
    space_width_m = DecimalCommaField(_l("Freie Fläche: Breite (m)"), validators=[
        InputRequired(_l("Bitte geben Sie die Breite an.")), NumberRange(0, 200, _l("Bitte 0 bis 200 m."))])
    clearance_m = DecimalCommaField(_l("Durchfahrtshöhe (m, leer = keine Begrenzung)"), validators=[
        Optional(), NumberRange(0, 20, _l("Bitte 0 bis 20 m."))])
    surface = SelectField(_l("Untergrund"), choices=SURFACE_CHOICES)
    power_type = SelectField(_l("Stromanschluss"), choices=POWER_CHOICES)
    power_distance_m = DecimalCommaField(_l("Entfernung zur Steckdose (m)"), validators=[
        Optional(), NumberRange(0, 1000, _l("Bitte 0 bis 1000 m."))])
    wifi = BooleanField(_l("WLAN für Gäste vorhanden"))
    toilets = BooleanField(_l("Toiletten für Teilnehmende erreichbar"))
    permit = SelectField(_l("Sondernutzungserlaubnis nötig (öffentlicher Grund)?"), choices=PERMIT_CHOICES)
    onsite_name = StringField(_l("Ansprechperson vor Ort am Anreisetag (z. B. Hausmeister)"), validators=[
        InputRequired(_l("Bitte nennen Sie eine Ansprechperson vor Ort.")), Length(max=120)])
    onsite_phone = StringField(_l("Telefon vor Ort"), validators=[
        InputRequired(_l("Bitte geben Sie eine Telefonnummer für den Anreisetag an.")), PHONE])
    access_notes = TextAreaField(_l("Zufahrt und Hinweise"), validators=[
        Length(max=1000, message=_l("Höchstens %(max)d Zeichen."))])
    confirm_site = BooleanField(_l("Ich habe die Hinweise zum Standplatz gelesen – bitte trotzdem senden."))

    host_state: str = "NI"
    host_kind: OrgKind = OrgKind.BBS
    today: date

    def host(self) -> tuple[str, OrgKind]:
        return self.host_state, self.host_kind

    def window_pairs(self) -> list[tuple[date, date]]:
        return [(w.form.start.data, w.form.end.data) for w in self.windows if w.form.start.data or w.form.end.data]

    def site_data(self) -> dict:
        return {name: getattr(self, name).data for name in (
            "space_length_m", "space_width_m", "clearance_m", "surface", "power_type", "power_distance_m", "permit")}

    def site_warnings(self) -> list[str]:
        try:
            return sitecheck.check(self.site_data(), current_app.config["TRUCK"])
        except TypeError:  # a number is missing: the field error says so
            return []

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        state, kind = self.host()
        filled = 0
        for i, entry in enumerate(self.windows):
            start, end = entry.form.start.data, entry.form.end.data
            if entry.form.start.errors or entry.form.end.errors:
                ok = False
                continue
            if not start and not end:
                continue
            filled += 1
            if not (start and end):
                entry.form.end.errors = [str(_l("Bitte geben Sie Beginn und Ende an."))]
                ok = False
                continue
            problem = blackouts.window_problem(start, end, self.half_days.data or 1, state, kind, self.today)
            if problem:
                entry.form.end.errors = [problem]
                ok = False
        if filled == 0 and not self.windows[0].form.start.errors:
            self.windows[0].form.start.errors = [str(_l("Bitte nennen Sie mindestens einen Zeitraum."))]
            ok = False
        entry_errors = [entry.errors for entry in self.windows.entries]
        self.windows.errors = entry_errors if any(entry_errors) else []
        if ok and self.site_warnings() and not self.confirm_site.data:
            self.confirm_site.errors = [str(_l("Der Standplatz erfüllt nicht alle Anforderungen des Trucks. "
                                               "Bitte prüfen Sie die Hinweise und bestätigen Sie."))]
            ok = False
        return ok

    def details(self) -> dict:
        data = {name: getattr(self, name).data for name in (
            "half_days", "classes_per_day", "participants", "occupations", "message", "space_length_m",
            "space_width_m", "clearance_m", "surface", "power_type", "power_distance_m", "wifi", "toilets",
            "permit", "onsite_name", "onsite_phone", "access_notes")}
        data["windows"] = self.window_pairs()
        return data


class RequestForm(VisitDetailsForm):
    kind = SelectField(_l("Art der Einrichtung"), choices=KIND_CHOICES)
    org_name = StringField(_l("Name der Schule oder des Unternehmens"), validators=[
        InputRequired(_l("Bitte geben Sie den Namen an.")), Length(2, 200, _l("Bitte 2 bis 200 Zeichen."))])
    street = StringField(_l("Straße und Hausnummer"), validators=[
        InputRequired(_l("Bitte geben Sie die Straße an.")), Length(max=200)])
    postcode = StringField(_l("Postleitzahl"), validators=[
        InputRequired(_l("Bitte geben Sie die Postleitzahl an.")),
        Regexp(r"^\d{5}$", message=_l("Eine Postleitzahl hat fünf Ziffern, z. B. 26919."))])
    town = StringField(_l("Ort"), validators=[InputRequired(_l("Bitte geben Sie den Ort an.")), Length(max=100)])
    district = SelectField(_l("Landkreis oder Stadt"), validators=[
        DataRequired(_l("Bitte wählen Sie den Landkreis oder die Stadt."))])
    contact_name = StringField(_l("Ihr Name"), validators=[
        InputRequired(_l("Bitte geben Sie Ihren Namen an.")), Length(max=120)])
    email = StringField(_l("E-Mail"), validators=[
        InputRequired(_l("Bitte geben Sie Ihre E-Mail-Adresse an.")), Length(max=254),
        Email(_l("Bitte geben Sie eine gültige E-Mail-Adresse an, z. B. name@schule.de."))])
    phone = StringField(_l("Telefon"), validators=[Optional(), PHONE])
    module_ids = MultiCheckboxField(_l("Gewünschte Module"), coerce=int)
    consent = BooleanField(_l("Ich willige ein, dass das InnovationLab meine Angaben zur Planung des Besuchs "
                              "verarbeitet."), validators=[DataRequired(_l("Ohne Ihre Einwilligung können wir die "
                                                                           "Anfrage nicht bearbeiten."))])
    submission_key = HiddenField(validators=[Optional(), Regexp(r"^[0-9a-f]{32}$")])

    def __init__(self, *args, modules=(), lang="de", **kwargs):
        super().__init__(*args, **kwargs)
        self.district.choices = [("", str(_l("– bitte wählen –")))] + [(d, d) for d in region.districts()] + [
            (region.OTHER_DISTRICT, str(_l("anderer Landkreis")))]
        self.module_ids.choices = [(m.id, m.name(lang)) for m in modules]
        if not self.submission_key.data:
            self.submission_key.data = per_response("key")

    def host(self) -> tuple[str, OrgKind]:
        kind = OrgKind(self.kind.data) if self.kind.data in {k.value for k in OrgKind} else OrgKind.OTHER
        return region.state_of(self.district.data or "", self.postcode.data or ""), kind

    def request_data(self) -> dict:
        data = self.details()
        data.update({name: getattr(self, name).data for name in (
            "kind", "org_name", "street", "postcode", "town", "district", "contact_name", "email", "phone",
            "module_ids", "submission_key")})
        return data


class CancelForm(LabForm):
    confirm = BooleanField(_l("Ja, ich möchte die Anfrage stornieren."), validators=[
        DataRequired(_l("Bitte bestätigen Sie die Stornierung."))])
