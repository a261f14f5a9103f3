"""Forms for vacancies, panels, candidates, questions, scores, decisions and recognition."""

from __future__ import annotations

from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    DecimalField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from involve.bad_input import finite
from involve.kernel.forms import PlainForm
from involve.people.forms import one_line, own_pictures_only
from involve.recruitment.models import SCALE_WORDS, Reward, Scale


class VacancyForm(PlainForm):
    """A new vacancy."""

    service_id = SelectField("Service", coerce=int)
    role_title = StringField("Job title", validators=[
        DataRequired("Please give the job a title."), Length(max=200), one_line])
    description = TextAreaField("What the job is about",
                                validators=[Length(max=5000), own_pictures_only])
    closing_date = DateField("Closing date for applications", validators=[
        InputRequired("Please give the closing date.")])
    interview_dates = StringField("Interview days", validators=[Length(max=200)])


class PoolMemberForm(PlainForm):
    """A service user joining the panel pool."""

    person_id = SelectField("Service user", coerce=int)
    training_completed_on = DateField("Training finished on", validators=[Optional()])
    confidentiality_signed_on = DateField("Confidentiality agreement signed on",
                                          validators=[Optional()])
    support_needs = TextAreaField("Support they need on the day", validators=[Length(max=2000)])
    advocate_id = SelectField("Advocate (supports them, does not score)", coerce=int)
    prefers_simple_scale = BooleanField("Prefers the simple 3-face scale")


class PanelMemberForm(PlainForm):
    """Someone joining a panel."""

    person_id = SelectField("Person", coerce=int)
    shortlists = BooleanField("Helps with the shortlist", default=True)
    interviews = BooleanField("Sits on the interviews", default=True)


class ChairForm(PlainForm):
    """Choosing the panel's chair (its own field name, so its label is its own on the page)."""

    chair_id = SelectField("Chair", coerce=int)


class ReplaceMemberForm(PlainForm):
    """Someone dropping out of a confirmed panel, and who takes their place."""

    leaving_id = SelectField("Who is leaving the panel?", coerce=int)
    replacement_id = SelectField("Who takes their place?", coerce=int)


class CandidateForm(PlainForm):
    """A candidate, with the least personal data the interview needs."""

    first_name = StringField("First name", validators=[
        DataRequired("Please give the candidate's first name."), Length(max=100)])
    last_name = StringField("Last name", validators=[Length(max=100)])
    email = StringField("Email (managers only)", validators=[
        Optional(), Email("That email address does not look right."), Length(max=254)])
    phone = StringField("Phone (managers only)", validators=[Length(max=40)])
    told_about_panel_on = DateField("Told that service users sit on the panel on",
                                    validators=[Optional()])
    interview_at = DateTimeLocalField("Interview time", format="%Y-%m-%dT%H:%M",
                                      validators=[Optional()])


class CandidateEditForm(PlainForm):
    """Changing a candidate's contact details, when they were told, or their interview time."""

    email = CandidateForm.email
    phone = CandidateForm.phone
    told_about_panel_on = CandidateForm.told_about_panel_on
    interview_at = CandidateForm.interview_at


class QuestionForm(PlainForm):
    """A new question for the bank."""

    text = TextAreaField("The question", validators=[
        DataRequired("Please write the question."), Length(min=5, max=1000,
                                                            message="Please write the question "
                                                                    "in full.")])
    written_by_id = SelectField("Whose question is it?", coerce=int)


class ChooseQuestionForm(PlainForm):
    """A question from the bank for this interview."""

    question_id = SelectField("Question", coerce=int)


class AgreeAnswersForm(PlainForm):
    """What the panel agreed a good, an average and a poor answer sound like."""

    good_answer = TextAreaField("A good answer sounds like", validators=[Length(max=2000)])
    average_answer = TextAreaField("An average answer sounds like", validators=[Length(max=2000)])
    poor_answer = TextAreaField("A poor answer sounds like", validators=[Length(max=2000)])
    asked_by_id = SelectField("Who asks this question", coerce=int)


class ScoreField(RadioField):
    """A score on a member's scale; anything else gets a plain answer."""

    def __init__(self, label: str, scale: Scale, **kwargs):
        self.scale = scale
        super().__init__(label, choices=list(SCALE_WORDS[scale].items()), coerce=_int_or_none,
                         validators=[Optional()], **kwargs)

    def pre_validate(self, form) -> None:
        if self.data not in SCALE_WORDS[self.scale]:
            raise ValidationError(f"Scores go from 1 to {self.scale.top}. Please choose one of "
                                  "the faces.")


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1 if value not in (None, "") else None


def score_sheet_form(questions, scale: Scale, **kwargs) -> PlainForm:
    """A form with a score and a comment for each interview question."""

    class ScoreSheetForm(PlainForm):
        pass

    for question in questions:
        setattr(ScoreSheetForm, f"score_{question.id}",
                ScoreField(question.question.text, scale))
        setattr(ScoreSheetForm, f"comment_{question.id}",
                TextAreaField("Comment (you do not have to)", validators=[Length(max=2000)]))
    return ScoreSheetForm(**kwargs)


NO_NAMES_HINT = ("Please do not write candidates' names here: call them by their code, such as "
                 "\u201ccandidate A\u201d. The panel reads this, and it is deleted with the "
                 "candidates' personal data.")


class DecisionForm(PlainForm):
    """The panel's decision."""

    appointed_id = SelectField("Who is appointed?", coerce=int)
    reasons = TextAreaField("Reasons", validators=[
        DataRequired("Please give the reasons for the decision."), Length(max=5000)])
    service_user_views = TextAreaField("How the service users' views were weighed", validators=[
        DataRequired("Please record how the service users' views were weighed."),
        Length(max=5000)])


class RecognitionForm(PlainForm):
    """Time given, and how it was recognised."""

    service_id = SelectField("Service", coerce=int)
    vacancy_id = SelectField("Vacancy (if any)", coerce=int)
    took_part_on = DateField("Day", validators=[InputRequired("Please give the day.")])
    activity = StringField("What they did", validators=[Length(max=200)],
                           default="Interview panel")
    hours = DecimalField("Hours", places=2, validators=[
        InputRequired("Please give the hours."), finite,
        NumberRange(min=0.25, max=24, message="Hours must be between a quarter and 24.")])
    reward = RadioField("Recognised with", choices=[(r.value, r.label) for r in Reward],
                        default=Reward.none.value)
    amount = DecimalField("Amount in pounds", places=2, validators=[
        Optional(), finite,
        NumberRange(min=0, max=100_000, message="The amount must be between nothing and "
                    "100,000 pounds.")])
