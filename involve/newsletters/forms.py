"""Forms for writing, publishing and subscribing to newsletters."""

from __future__ import annotations

from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    EmailField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from involve.kernel.forms import PlainForm
from involve.newsletters.models import AUDIENCE_LABELS
from involve.people.forms import one_line, own_pictures_only


class CheckboxList(SelectMultipleField):
    """Several choices shown as tick boxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _at_least_one(form: PlainForm, field: SelectMultipleField) -> None:
    # Not DataRequired: that marks every tick box "required" and the browser would ask for all.
    if not field.data:
        raise ValidationError("Choose at least one group of readers.")


def _audience_choices() -> list[tuple[str, str]]:
    return [(a.value, label) for a, label in AUDIENCE_LABELS.items()]


class IssueForm(PlainForm):
    """The words of an issue and who it is for."""

    title = StringField("Title", validators=[
        DataRequired("Give the issue a title."), Length(max=200, message="Keep the title "
                                                        "under 200 characters."), one_line])
    summary = StringField("One-line summary (shown in the archive)", validators=[
        Optional(), Length(max=500, message="Keep the summary under 500 characters.")])
    audiences = CheckboxList("Who is it for?", choices=_audience_choices(),
                             validators=[_at_least_one])
    body = TextAreaField("The issue", render_kw={"rows": 18}, validators=[own_pictures_only])


class NewIssueForm(IssueForm):
    """A new issue: the words, the readers and where it belongs."""

    scope = SelectField("Newsletter of", validators=[DataRequired("Choose where it belongs.")])


class ImageForm(PlainForm):
    """A picture for the issue, with its description."""

    photo = FileField("Picture", validators=[FileRequired("Choose a picture to upload.")])
    alt_text = StringField("Describe the picture for people who cannot see it", validators=[
        DataRequired("Describe the picture for people who cannot see it."),
        Length(max=300, message="Keep the description under 300 characters.")])


class PublishForm(PlainForm):
    """Publish now or later; optionally email it as soon as it is out."""

    publish_at = DateTimeLocalField("Publish later, at (leave empty to publish now)",
                                    format="%Y-%m-%dT%H:%M", validators=[Optional()])
    send = BooleanField("Also email it to the readers as soon as it is published")


class SubscribeForm(PlainForm):
    """Ask for a service's newsletter by email."""

    email = EmailField("Your email address", validators=[
        DataRequired("Enter your email address."),
        Email("That does not look like an email address. Please check it, "
              "for example name@example.com.")])
    name = StringField("Your name (optional)", validators=[
        Optional(), Length(max=200, message="Keep your name under 200 characters."),
        one_line])


class PreferencesForm(PlainForm):
    """What an address wants to receive from one organisation."""

    newsletters = CheckboxList("Email me these newsletters", choices=[], validate_choice=False)
    wants_print = BooleanField("Also give me a printed copy")


class TestEmailForm(PlainForm):
    """Where to send a test copy of an issue."""

    email = EmailField("Send a test email to", validators=[
        DataRequired("Enter the address to send the test email to."),
        Email("That does not look like an email address. Please check it, "
              "for example name@example.com."), one_line])
