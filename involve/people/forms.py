"""Forms for services, people, roles, family links, needs, photos, invitations and imports."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from involve.mail import has_line_break
from involve.people.models import COMMUNICATION_FORMATS, ROLE_LABELS, ServiceKind
from involve.text import OUTSIDE_PICTURE_MESSAGE, outside_pictures

# WTForms' own messages, said plainly (they show when a choice has gone from a list since the
# page was opened, or a browser without date and number inputs sends something else).
PLAIN_MESSAGES = {
    "Not a valid choice.": "Choose one of the options in the list.",
    "Invalid Choice: could not coerce.": "Choose one of the options in the list.",
    "Not a valid integer value.": "Use a whole number, like 3.",
    "Not a valid date value.": "Give a date with the day, month and year.",
}


class _PlainWords:
    """Translations that put WTForms' built-in messages into plain words."""

    def gettext(self, string: str) -> str:
        return PLAIN_MESSAGES.get(string, string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.gettext(singular if n == 1 else plural)


class PlainForm(FlaskForm):
    """A form whose built-in messages are in plain words; every form in Involve can use it."""

    class Meta:
        def get_translations(self, form: object) -> _PlainWords:
            return _PlainWords()


ONE_LINE_MESSAGE = "Please write this on one line, without pressing Enter."


def one_line(form: object, field: object) -> None:
    """Refuse a line break in a field that can reach an email's header (a subject, a name):
    a browser's one-line box never sends one, so it is someone trying to add headers."""
    if has_line_break(getattr(field, "data", None)):
        raise ValidationError(ONE_LINE_MESSAGE)


def own_pictures_only(form: object, field: object) -> None:
    """Refuse pictures from other websites in a Markdown field: in an email they tell their
    sender who opened it. Pictures uploaded to Involve are welcome."""
    outside = outside_pictures(getattr(field, "data", None))
    if outside:
        raise ValidationError(OUTSIDE_PICTURE_MESSAGE.format(src=outside[0]))


KIND_CHOICES = [(kind.value, kind.label) for kind in ServiceKind]
ROLE_CHOICES = [(role.value, label) for role, label in ROLE_LABELS.items()]


class ServiceForm(PlainForm):
    """A service's name, kind and address."""

    name = StringField("Name", validators=[
        DataRequired("Give the service a name."), Length(max=200), one_line])
    kind = SelectField("Kind of service", choices=KIND_CHOICES)
    address = TextAreaField("Address", validators=[Optional(), Length(max=500)])


class PersonForm(PlainForm):
    """A person's names."""

    full_name = StringField("Full name", validators=[
        DataRequired("Give the person's full name."), Length(max=200), one_line])
    preferred_name = StringField("Preferred name (what they like to be called)",
                                 validators=[Optional(), Length(max=100), one_line])


class AddPersonForm(PersonForm):
    """A new person and their first role."""

    role = SelectField("Role", choices=[("", "No role yet (administrators only)"),
                                        *ROLE_CHOICES])
    service = SelectField("Service", choices=[], coerce=str)
    starts_on = DateField("Role starts on", validators=[Optional()])


class GrantForm(PlainForm):
    """A role to grant, where and from when."""

    role = SelectField("Role", choices=ROLE_CHOICES)
    service = SelectField("Where", choices=[], coerce=str)
    starts_on = DateField("Starts on", validators=[Optional()])


class EndRoleForm(PlainForm):
    """The day a role ends (today when left empty)."""

    ends_on = DateField("Last day", validators=[Optional()])


class FamilyLinkForm(PlainForm):
    """A family member or carer to link, and how they are related."""

    family_person = SelectField("Family member or carer", choices=[], coerce=str,
                                validators=[DataRequired("Choose the family member.")])
    relationship = StringField("Relationship (for example Daughter, Son, Friend)", validators=[
        DataRequired("Say how they are related."), Length(max=60)])


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class NeedsForm(PlainForm):
    """Communication needs after the Accessible Information Standard."""

    formats = MultiCheckboxField("How this person needs information",
                                 choices=list(COMMUNICATION_FORMATS.items()))
    helper = SelectField("The person who helps them", choices=[], coerce=str)
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=2000)])


class PhotoForm(PlainForm):
    """A photo of the person and their consent."""

    photo = FileField("Photo (JPEG, PNG, GIF or WebP)", validators=[
        FileRequired("Choose a photo to upload.")])
    consent = BooleanField("The person (or someone who may decide for them) agreed to this "
                           "photo being used in Involve")
    consent_note = StringField("Who agreed, and how", validators=[Optional(), Length(max=300)])


class StatusForm(PlainForm):
    """Whether the person is still involved."""

    status = RadioField("Status", choices=[("active", "Active"), ("left", "Has left")],
                        validators=[DataRequired("Choose a status.")])


class InviteEmailForm(PlainForm):
    """Invite by email."""

    email = EmailField("Email address", validators=[
        DataRequired("Give an email address."), Email("That is not an email address."),
        Length(max=254)])


class InviteCardForm(PlainForm):
    """Invite with a printed card: the person signs in with a username."""

    username = StringField("Username they will sign in with", validators=[
        DataRequired("Give a username."), Length(min=2, max=60)])


class ImportForm(PlainForm):
    """A CSV file of people to preview."""

    file = FileField("CSV file", validators=[FileRequired("Choose a CSV file.")])


class ConfirmForm(PlainForm):
    """A confirmation with nothing to fill in."""

    confirm = HiddenField(default="yes")


class ServiceSwitchForm(PlainForm):
    """Choose the service to look at."""

    # Any id is accepted here: the view looks it up among the person's services, which an
    # organisation-wide role makes too many to list as choices.
    service = SelectField("Service you are looking at", choices=[], coerce=str,
                          validate_choice=False)


class AuditFilterForm(PlainForm):
    """Filters for the audit log (read from the query string)."""

    class Meta:
        csrf = False

    person = StringField("Person's name", validators=[Optional(), Length(max=100)])
    action = SelectField("Action", choices=[], validate_choice=False)
    since = DateField("From", validators=[Optional()])
    until = DateField("To", validators=[Optional()])
