"""Forms of the tour workspace."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, SelectField
from wtforms.validators import InputRequired, Optional
from ..forms import LabForm


class PlanForm(LabForm):
    start = DateField(_l("Planungszeitraum von"), validators=[InputRequired(_l("Bitte ein Datum angeben."))])
    end = DateField(_l("bis"), validators=[InputRequired(_l("Bitte ein Datum angeben."))])


class MoveForm(LabForm):
    start = DateField(_l("Neuer erster Tag"), validators=[InputRequired(_l("Bitte ein Datum angeben."))])
    half = SelectField(_l("Halbtag"), choices=[("", "–"), ("am", _l("Vormittag")), ("pm", _l("Nachmittag"))],
                       validators=[Optional()])
    lock = BooleanField(_l("festhalten (beim Neuplanen nicht verschieben)"), default=True)


class ActionForm(LabForm):
    """CSRF only: lock, unlock, remove, re-plan, publish, discard."""
