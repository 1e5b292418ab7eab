"""Form fields shared by the feature forms."""
from __future__ import annotations

import re

from flask_wtf import FlaskForm
from flask_wtf.i18n import translations
from wtforms import Form

from flask_babel import lazy_gettext as _l
from wtforms import FieldList, FloatField, FormField, SelectMultipleField
from wtforms.widgets import CheckboxInput, ListWidget, NumberInput


class DecimalCommaField(FloatField):
    """A number that also accepts the German decimal comma ("7,5")."""
    widget = NumberInput(step="0.1")

    def process_formdata(self, valuelist):
        if valuelist and isinstance(valuelist[0], str):
            valuelist = [valuelist[0].strip().replace(",", ".")]
        if valuelist and valuelist[0] == "":
            self.data = None
            return
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(str(_l("Bitte geben Sie eine Zahl ein, z. B. 7,5.")))


    def _value(self) -> str:
        if self.raw_data and self.data is None:
            return self.raw_data[0]
        return "" if self.data is None else f"{self.data:g}"


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def strip_control(value):
    """Typed text never carries control characters (PostgreSQL refuses NUL; none belongs in a form)."""
    return _CONTROL.sub("", value) if isinstance(value, str) else value


class _CleanFields:
    def bind_field(self, form, unbound_field, options):
        if issubclass(unbound_field.field_class, (FieldList, FormField)):  # their inner fields are filtered
            return unbound_field.bind(form=form, **options)
        filters = [*unbound_field.kwargs.get("filters", ()), strip_control]
        return unbound_field.bind(form=form, filters=filters, **options)


class LabForm(FlaskForm):
    """Every LabTour form: CSRF from Flask-WTF, control characters removed from whatever is typed."""
    class Meta(_CleanFields):
        pass


class SubForm(Form):
    """A form nested in a FlaskForm: no CSRF token of its own, WTForms' messages in the user's language."""
    class Meta(_CleanFields):
        def get_translations(self, form):
            return translations
