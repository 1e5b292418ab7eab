"""Forms a host reaches from a reminder e-mail."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, RadioField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError
from ..forms import LabForm


class LogisticsForm(LabForm):
    space_ok = BooleanField(_l("Die freie Fläche für den Truck ist am Besuchstag frei."))
    power_ok = BooleanField(_l("Der Stromanschluss ist vorhanden und freigegeben."))
    access_ok = BooleanField(_l("Die Zufahrt ist für einen Lkw möglich."))
    problem = TextAreaField(_l("Problem oder Änderung (z. B. anderer Standplatz, Baustelle)"),
                            validators=[Length(max=2000)])

    def validate_problem(self, field):
        all_ok = self.space_ok.data and self.power_ok.data and self.access_ok.data
        if not all_ok and not (field.data or "").strip():
            raise ValidationError(_l("Bitte beschreiben Sie kurz, was nicht passt, damit wir reagieren können."))


class FeedbackForm(LabForm):
    rating = RadioField(_l("Wie hat Ihnen der Besuch gefallen?"), coerce=int,
                        choices=[(5, _l("sehr gut")), (4, _l("gut")), (3, _l("mittel")), (2, _l("weniger gut")),
                                 (1, _l("schlecht"))],
                        validators=[InputRequired(_l("Bitte wählen Sie eine Bewertung."))])
    participants_reached = IntegerField(_l("Wie viele Teilnehmende waren tatsächlich dabei?"), validators=[
        Optional(), NumberRange(0, 2000, _l("Bitte geben Sie eine Zahl zwischen 0 und 2000 an."))])
    comments = TextAreaField(_l("Was war gut, was können wir besser machen?"), validators=[Length(max=4000)])
