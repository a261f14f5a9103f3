"""Forms for elections, with messages in plain words."""

from __future__ import annotations

from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from involve.elections.models import BallotOrder, Method
from involve.elections.services import EASY_READ_LIMIT, STATEMENT_LIMIT
from involve.kernel.forms import PlainForm
from involve.people.forms import one_line, own_pictures_only


class ElectionForm(PlainForm):
    title = StringField("Title", validators=[DataRequired("Give the election a title."),
                                             Length(max=200), one_line])
    description = TextAreaField("What the ambassadors will do",
                                validators=[Optional(), own_pictures_only])
    service_id = SelectField("Who votes", coerce=int)
    seats = IntegerField("How many ambassadors to elect", default=1, validators=[
        InputRequired("Say how many ambassadors to elect."),
        NumberRange(1, 20, "Choose between 1 and 20 seats.")])
    term_months = IntegerField("Length of term, in months", default=12, validators=[
        InputRequired("Say how long the term is."),
        NumberRange(1, 60, "Choose a term between 1 and 60 months.")])
    method = RadioField("How people vote", default=Method.block.value,
                        choices=[(m.value, m.label) for m in Method])
    ballot_order = RadioField("The order of the names on the ballot",
                              default=BallotOrder.alphabetical.value,
                              choices=[(o.value, o.label) for o in BallotOrder])
    nominations_open_on = DateField("Nominations open on", validators=[Optional()])
    nominations_close_on = DateField("Nominations close on", validators=[Optional()])
    voting_opens_on = DateField("Voting opens on", validators=[Optional()])
    voting_closes_on = DateField("Voting closes on", validators=[Optional()])


class MoveForm(PlainForm):
    action = HiddenField(validators=[DataRequired()])


class CancelForm(PlainForm):
    reason = TextAreaField("Why is the election cancelled?", validators=[
        DataRequired("Say why the election is cancelled."), Length(max=300)])


class NominateForm(PlainForm):
    person_id = SelectField("Who is nominated", coerce=int,
                            validators=[DataRequired("Choose who to nominate.")])
    consent = BooleanField("They have told me they agree to stand")


class CandidateForm(PlainForm):
    statement = TextAreaField("Statement", validators=[Length(
        max=STATEMENT_LIMIT, message=f"Keep the statement under {STATEMENT_LIMIT} characters."),
        own_pictures_only])
    easy_read = TextAreaField("Easy-read statement (a few short sentences)", validators=[Length(
        max=EASY_READ_LIMIT,
        message=f"Keep the easy-read statement under {EASY_READ_LIMIT} characters.")])
    photo = FileField("Photo (optional)")
    photo_consent = BooleanField("The candidate agreed to this photo being shown")
    photo_consent_note = StringField("How consent was given (optional)",
                                     validators=[Length(max=300)])


class PersonForm(PlainForm):
    person_id = IntegerField(validators=[InputRequired()])


class IneligibleForm(PersonForm):
    reason = TextAreaField("Reason", validators=[
        DataRequired("Say why this person cannot vote."), Length(max=300)])


class UndoPaperForm(PersonForm):
    reason = TextAreaField("Why is the mark wrong?", validators=[
        DataRequired("Say why the paper mark is being undone."), Length(max=300)])


class CodeForm(PlainForm):
    code = StringField("Your voting code", validators=[
        DataRequired("Type the code from your voting card."), Length(max=20)])


class PaperBatchForm(PlainForm):
    declared = IntegerField("How many papers are in this batch", validators=[
        InputRequired("Count the papers in the batch."),
        NumberRange(1, 1000, "A batch holds between 1 and 1,000 papers.")])
    ballots = TextAreaField("The papers with choices, one a line", validators=[Optional()])
    blank = IntegerField("Blank papers (nobody chosen)", default=0, validators=[
        Optional(), NumberRange(0, 1000, "Blank papers: a number from 0 to 1,000.")])
    spoilt = IntegerField("Spoilt papers (cannot be read, or break the rules)", default=0,
                          validators=[Optional(), NumberRange(
                              0, 1000, "Spoilt papers: a number from 0 to 1,000.")])


class ReceiptForm(PlainForm):
    receipt = StringField("Your receipt code", validators=[
        DataRequired("Type your receipt code."), Length(max=20)])


class KeyForm(PlainForm):
    key = StringField("The ballot box key", validators=[
        DataRequired("Type the ballot box key from the card."), Length(max=200)],
        render_kw={"autocomplete": "off", "spellcheck": "false",
                   "autocapitalize": "characters", "data-key-input": ""})
