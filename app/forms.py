"""Form fields shared by the feature forms."""
from __future__ import annotations

from flask_wtf.i18n import translations
from wtforms import Form

from flask_babel import lazy_gettext as _l
from wtforms import FloatField, SelectMultipleField
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


class SubForm(Form):
    """A form nested in a FlaskForm: no CSRF token of its own, WTForms' messages in the user's language."""
    class Meta:
        def get_translations(self, form):
            return translations
