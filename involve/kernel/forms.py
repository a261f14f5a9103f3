"""The form base every domain uses: WTForms' own messages in plain words, the empty form of a
button, and a list of tick boxes."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, widgets

# WTForms' own messages, said plainly (they show when a choice has gone from a list since the
# page was opened, or a browser without date and number inputs sends something else).
PLAIN_MESSAGES = {
    "Not a valid choice.": "Choose one of the options in the list.",
    "Not a valid choice": "Choose one of the options in the list.",
    "'%(value)s' is not a valid choice for this field.": "Choose one of the options in the list.",
    "'%(value)s' are not valid choices for this field.": "Choose one of the options in the list.",
    "Invalid Choice: could not coerce.": "Choose one of the options in the list.",
    "Invalid choice(s): one or more data inputs could not be coerced.":
        "Choose one of the options in the list.",
    "Not a valid integer value.": "Use a whole number, like 3.",
    "Not a valid decimal value.": "Use a number, like 2.5.",
    "Not a valid float value.": "Use a number, like 2.5.",
    "Not a valid date value.": "Give a date with the day, month and year.",
    "Not a valid datetime value.": "Give a date and a time.",
    "Not a valid time value.": "Give a time, like 14:30.",
    "This field is required.": "Please fill this in.",
}


class _PlainWords:
    """Translations that put WTForms' built-in messages into plain words."""

    def gettext(self, string: str) -> str:
        return PLAIN_MESSAGES.get(string, string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.gettext(singular if n == 1 else plural)


class PlainForm(FlaskForm):
    """A form whose built-in messages are in plain words: the base of every form in Involve."""

    class Meta:
        def get_translations(self, form: object) -> _PlainWords:
            return _PlainWords()


class EmptyForm(PlainForm):
    """Only the CSRF token: for buttons that change something."""


class MultiCheckboxField(SelectMultipleField):
    """Several tick boxes, one per choice."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()
