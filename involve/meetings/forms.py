"""Forms for meetings, agendas, attendance, minutes and actions."""

from __future__ import annotations

from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import URL, DataRequired, InputRequired, Length, NumberRange, Optional

from involve.kernel.forms import MultiCheckboxField, PlainForm
from involve.meetings.models import ActionStatus, SeriesKind
from involve.people.forms import one_line, own_pictures_only
from involve.people.models import ROLE_LABELS, Role

TIME_FORMAT = "%Y-%m-%dT%H:%M"


class SeriesForm(PlainForm):
    name = StringField("Name of the meeting", validators=[
        DataRequired("Give the series a name."), Length(max=200), one_line])
    kind = SelectField("Kind of meeting", choices=[(k.value, k.label) for k in SeriesKind])
    scope = SelectField("For which service", coerce=int)
    invited_roles = MultiCheckboxField(
        "Who is invited", choices=[(r.value, ROLE_LABELS[r]) for r in Role if r != Role.admin])
    invite_ambassadors = BooleanField("Ambassadors are invited")
    share_with_families = BooleanField("Share the minutes with families")
    share_with_partners = BooleanField("Share the minutes with partners")
    default_room = StringField("Usual room", validators=[Optional(), Length(max=200)])


class MeetingForm(PlainForm):
    starts_at = DateTimeLocalField("Starts", format=TIME_FORMAT, validators=[
        InputRequired("Enter the date and time the meeting starts.")])
    ends_at = DateTimeLocalField("Ends", format=TIME_FORMAT, validators=[
        InputRequired("Enter the date and time the meeting ends.")])
    room = StringField("Room", validators=[Optional(), Length(max=200)])
    online_link = URLField("Online link", validators=[
        Optional(), URL(message="Enter the full link, starting with https://"),
        Length(max=500)])
    chair_id = SelectField("Chair", coerce=int)
    minute_taker_id = SelectField("Minute-taker", coerce=int)
    # Tick boxes (with a filter box where JavaScript runs): easy on a tablet, unlike a
    # multiple select that needs Ctrl-click.
    named_ids = MultiCheckboxField("Also invite these people", coerce=int,
                                   invalid_choice_message="Choose only from the list shown.")
    hearing_loop = BooleanField("Hearing loop in the room")
    easy_read_agenda = BooleanField("Easy-read agenda")
    step_free = BooleanField("Step-free access")
    access_notes = TextAreaField("Other access notes", validators=[Optional(), Length(max=2000)])


class SuggestForm(PlainForm):
    title = StringField("What would you like to talk about?", validators=[
        DataRequired("Say in a few words what you would like to talk about."),
        Length(max=200, message="Please keep the title under 200 letters.")])
    description = TextAreaField("Tell us more (you can leave this empty)",
                                validators=[Optional(), Length(max=5000), own_pictures_only])
    on_behalf_of = SelectField("Suggested by", coerce=int, default=0)


class AcceptForm(PlainForm):
    # Blank is refused by the service (with the same words); left out, the title stays.
    title = StringField("Title on the agenda", validators=[
        Optional(), Length(max=200, message="Keep the title under 200 letters.")])
    description = TextAreaField("What it is about, on the agenda (you can leave this empty)",
                                validators=[Optional(), Length(max=5000), own_pictures_only])
    presenter_id = SelectField("Who will present it", coerce=int, default=0)
    duration_minutes = IntegerField("Minutes allowed", validators=[
        Optional(), NumberRange(min=1, max=240, message="Choose between 1 and 240 minutes.")])


class AddItemForm(PlainForm):
    title = StringField("Title on the agenda", validators=[
        DataRequired("Give the item a title."),
        Length(max=200, message="Keep the title under 200 letters.")])
    description = TextAreaField("What it is about (you can leave this empty)",
                                validators=[Optional(), Length(max=5000), own_pictures_only])
    raised_by_id = SelectField("Raised by", coerce=int, default=0)
    presenter_id = SelectField("Who will present it", coerce=int, default=0)
    duration_minutes = IntegerField("Minutes allowed", validators=[
        Optional(), NumberRange(min=1, max=240, message="Choose between 1 and 240 minutes.")])


class RewordForm(PlainForm):
    title = StringField("Title on the agenda", validators=[
        DataRequired("Give the item a title. People will read it on the agenda."),
        Length(max=200, message="Keep the title under 200 letters.")])
    description = TextAreaField("What it is about, on the agenda (you can leave this empty)",
                                validators=[Optional(), Length(max=5000), own_pictures_only])


class PictureForm(PlainForm):
    picture = FileField("Picture", validators=[FileRequired("Choose a picture to upload.")])
    alt_text = StringField("What the picture shows (for people who cannot see it)", validators=[
        DataRequired("Say what the picture shows, for people who cannot see it."),
        Length(max=300, message="Keep the description under 300 letters.")])


class AttachmentForm(PlainForm):
    file = FileField("PDF or picture", validators=[FileRequired("Choose a file to attach.")])
    description = StringField("What it is (for a picture: what it shows)", validators=[
        DataRequired("Say what the file is. For a picture, say what it shows."),
        Length(max=300, message="Keep the description under 300 letters.")])


class DeclineForm(PlainForm):
    reason = TextAreaField("Why is it declined? (the person who suggested it will see this)",
                           validators=[DataRequired("Give a reason. The person will see it.")])


class MoveForm(PlainForm):
    direction = HiddenField(validators=[DataRequired()])


class CancelForm(PlainForm):
    reason = TextAreaField("Why is the meeting cancelled? (invitees will see this)",
                           validators=[DataRequired("Say why the meeting is cancelled.")])


class WholeNumberField(IntegerField):
    """A whole number; anything else is refused in plain words."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError("Enter a whole number, for example 0 or 3.") from error


class AttendanceForm(PlainForm):
    guest_names = TextAreaField("Guests by name (people who came but were not invited), one "
                                "on each line", validators=[Optional(), Length(max=5000)])
    guest_count = WholeNumberField("Other guests, not named (how many)", default=0,
                                   validators=[Optional(), NumberRange(
                                       min=0, max=500, message="Enter a number from 0 to 500.")])


class MinutesForm(PlainForm):
    easy_read_summary = TextAreaField("Easy-read summary of the whole meeting",
                                      validators=[Optional(), Length(max=20000),
                                                  own_pictures_only])
    revision_note = StringField("What did you change, and why?",
                                validators=[Optional(), Length(max=500)])


class ApproveForm(PlainForm):
    approved_on = DateField("Date approved", validators=[
        InputRequired("Enter the date the minutes were approved.")])
    how = RadioField("Approved", choices=[
        ("At the next meeting", "At the next meeting"), ("By the chair", "By the chair")],
        default="By the chair")


class ActionForm(PlainForm):
    you_said = TextAreaField("You said (what people said)", validators=[
        DataRequired("Write what people said.")])
    we_will = TextAreaField("We will (what will be done)", validators=[
        DataRequired("Write what will be done.")])
    owner_id = SelectField("Who will do it", coerce=int, default=0)
    due_on = DateField("Due by", validators=[InputRequired("Choose the date it is due by.")])
    said_by_id = SelectField("Who said it (optional)", coerce=int, default=0)
    name_who_said = BooleanField("Show their name on \"You said, we did\"")


class ActionUpdateForm(PlainForm):
    status = RadioField("Where is it now?", choices=[(s.value, s.label) for s in ActionStatus])
    we_did = TextAreaField("What was done (shown on \"You said, we did\")",
                           validators=[Optional(), Length(max=5000)])
    reason = TextAreaField("Why it will not be done", validators=[Optional(), Length(max=5000)])
