"""Forms for feedback, comments, answers, briefings and the form for everyone."""

from __future__ import annotations

from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from involve.feedback.models import ComplaintOutcome, FeedbackKind, SubmissionKind
from involve.kernel.forms import PlainForm
from involve.people.forms import one_line, own_pictures_only

KIND_CHOICES = [(k.value, k.label) for k in FeedbackKind]
OUTCOME_CHOICES = [("", "Choose an outcome")] + [(o.value, o.label) for o in ComplaintOutcome]


class PeopleSaidForm(PlainForm):
    """What people told an ambassador: the fields every way of recording it shares."""

    service_id = SelectField("Service", coerce=int)
    theme_id = SelectField("Theme", coerce=int)
    kind = RadioField("What kind of feedback is it?", choices=KIND_CHOICES, default="suggestion")
    what_was_said = TextAreaField("What did people say?", render_kw={"rows": 6},
                                  validators=[DataRequired("Write down what people said."),
                                              own_pictures_only])
    people_count = IntegerField("Roughly how many people said this?", default=1, validators=[
        DataRequired("Say roughly how many people said this."),
        NumberRange(1, 10000, "Use a number of at least 1.")])
    safeguarding = BooleanField("This may be a safeguarding matter (someone may be at risk of "
                                "harm or abuse)")


class AmbassadorFeedbackForm(PeopleSaidForm):
    """What people told an ambassador, recorded by them or by staff on their behalf."""

    ambassador_id = SelectField("Ambassador", coerce=int, validate_choice=False)
    may_name = BooleanField("People agreed to be named")
    said_by = StringField("Who said it (only if they agreed)")


class SaidBackForm(PeopleSaidForm):
    """What people said back about a briefing."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.what_was_said.label.text = "What did people say back?"


class SafeguardingForm(PlainForm):
    """What was done about a possible safeguarding matter."""

    action_taken = TextAreaField("What was done", render_kw={"rows": 4}, validators=[
        DataRequired("Say what was done.")])
    referral_made = RadioField("Was a safeguarding referral made?",
                               choices=[("yes", "Yes"), ("no", "No")],
                               validators=[DataRequired("Say whether a referral was made.")])
    referred_to = StringField("Referred to (for example the local authority's safeguarding "
                              "team)", validators=[Optional(), Length(max=300), one_line])
    outcome = TextAreaField("Outcome (leave empty while you wait to hear)",
                            render_kw={"rows": 3})


class CommentForm(PlainForm):
    body = TextAreaField("Your comment", render_kw={"rows": 4},
                         validators=[DataRequired("Write your comment before sending it."),
                                     own_pictures_only])


class HideCommentForm(PlainForm):
    reason = StringField("Why are you hiding this comment?", validators=[
        DataRequired("Say why you are hiding this comment.")])


class AnswerForm(PlainForm):
    """The board's answer, with an optional action."""

    answer = TextAreaField("The board's answer", render_kw={"rows": 8},
                           validators=[DataRequired("Write the board's answer before saving it."),
                                       own_pictures_only])
    we_will = TextAreaField("Action: what will be done (leave empty for no action)",
                            render_kw={"rows": 3}, validators=[Optional()])
    owner_id = SelectField("Action owner", coerce=int, validate_choice=False)
    due_on = DateField("Action due by", validators=[Optional()])


class BriefingForm(PlainForm):
    service_id = SelectField("For the ambassadors of", coerce=int)
    title = StringField("Title", validators=[DataRequired("Give the briefing a title."),
                                             Length(max=200)])
    body = TextAreaField("Briefing", render_kw={"rows": 10},
                         validators=[DataRequired("Write the briefing before posting it."),
                                     own_pictures_only])


class GiveFeedbackForm(PlainForm):
    """The form for everyone: on the lounge tablet, from home, or staff for someone."""

    kind = RadioField("What would you like to tell us?", choices=[
        (k.value, k.label) for k in SubmissionKind if k != SubmissionKind.speak_up],
        validators=[DataRequired("Choose what you want to tell us.")])
    theme_id = SelectField("What is it about?", coerce=int, validators=[Optional()])
    body = TextAreaField("Tell us in your own words", render_kw={"rows": 6},
                         validators=[DataRequired("Please write what you want to tell us."),
                                     own_pictures_only])
    anonymous = BooleanField("Keep me anonymous (we will not know who you are, and cannot "
                             "contact you)")
    name = StringField("Your name (optional)", validators=[Optional(), one_line])
    contact = StringField("Email or phone, if you would like a reply (optional)",
                          validators=[Optional(), one_line])
    on_behalf = BooleanField("I am a member of staff writing this down for someone else")
    to_guardian = BooleanField("It may be about a manager: send it to our Freedom to Speak Up "
                               "guardian instead")


class AnswerSubmissionForm(PlainForm):
    answer = TextAreaField("The answer", render_kw={"rows": 8},
                           validators=[DataRequired("Write the answer before saving it."),
                                       own_pictures_only])
    outcome = SelectField("Outcome (for complaints)", choices=OUTCOME_CHOICES,
                          validators=[Optional()])
    learning = TextAreaField("What we learned", render_kw={"rows": 4})
    escalation_route = TextAreaField(
        "If they are not happy, where they can go next", render_kw={"rows": 3})


class SettingsForm(PlainForm):
    escalation_route = TextAreaField(
        "If people are not happy with the answer to a complaint, where they can go next",
        render_kw={"rows": 4}, validators=[DataRequired(
            "Say where people can go if they are not happy with the answer (the ombudsman "
            "route).")])
    speak_up_guardian_id = SelectField("Freedom to Speak Up guardian", coerce=int, default=0)


class ReopenForm(PlainForm):
    reason = TextAreaField("What is the person not satisfied with?", render_kw={"rows": 4},
                           validators=[DataRequired("Say why the complaint is reopened (what the "
                                                    "person is not satisfied with).")])


class ExtendForm(PlainForm):
    answer_by = DateField("New date to answer by", validators=[
        DataRequired("Give the new date by which it will be answered.")])
    reason = TextAreaField("Why we need more time (the person is told this)",
                           render_kw={"rows": 4}, validators=[
                               DataRequired("Say why more time is needed: the person is told "
                                            "the reason.")])


class ReferenceForm(PlainForm):
    reference = StringField("Your reference code", validators=[
        DataRequired("Enter the reference code you were given.")],
        render_kw={"autocomplete": "off"})


class ThemeForm(PlainForm):
    name = StringField("New theme", validators=[DataRequired("Give the theme a name.")])


class SummaryForm(PlainForm):
    class Meta:
        csrf = False

    start = DateField("From", validators=[DataRequired("Give the first day.")])
    end = DateField("To", validators=[DataRequired("Give the last day.")])
