"""Pages for vacancies, panels, candidates, questions, scoring, decisions and recognition."""

from __future__ import annotations

from decimal import Decimal

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError

from involve.extensions import db, utcnow
from involve.kernel import clock
from involve.kernel.steps import done, refuse
from involve.people.models import Person, Role, Service
from involve.people.policy import service_choices, service_choices_query
from involve.people.queries import people_with_role
from involve.permissions import can, current_actor, loader, requires
from involve.pickers import service_picker
from involve.recruitment import bp, forms, queries, services
from involve.recruitment.models import (
    SCALE_WORDS,
    InterviewQuestion,
    JobCandidate,
    PanelMember,
    PanelPoolMember,
    Reward,
    Vacancy,
    VacancyQuestion,
    VacancyStatus,
)
from involve.recruitment.services import RecruitmentError

BENEFITS_ADVICE = (
    "Payments and vouchers can affect some benefits. Before you accept one, talk to Citizens "
    "Advice or a welfare rights adviser: their advice is free. Your manager can help you "
    "find one.")


load_vacancy = loader(Vacancy)
load_candidate = loader(JobCandidate)
load_member = loader(PanelMember)
load_vacancy_question = loader(VacancyQuestion)
load_service = loader(Service)
load_person = loader(Person)


def _me() -> Person:
    return current_actor().person


def _managed_services() -> list[Service]:
    return service_choices(current_actor(), [Role.manager])


def _first_error(form) -> str:
    for errors in form.errors.values():
        if errors:
            return errors[0]
    return "Please check the form."


# --- lists --------------------------------------------------------------------------------

@bp.get("/")
@requires("recruitment.index")
def index():
    """The vacancies and panels the person is part of."""
    actor = current_actor()
    # Whether the person manages a service at all, not the list (every service for an
    # organisation-wide manager); the question banks a page at a time.
    manages = can("recruitment.manage") and db.session.scalar(
        service_choices_query(actor, [Role.manager]).limit(1)) is not None
    question_services = db.paginate(_question_services_query(), per_page=25,
                                    page=request.args.get("banks_page", 1, type=int),
                                    error_out=False)
    return render_template("recruitment/index.html", vacancies=queries.vacancies_for(actor),
                           managed=manages, question_services=question_services)


def _question_services_query() -> Select[tuple[Service]]:
    actor = current_actor()
    ids = actor.service_ids([Role.manager, Role.staff])
    query = select(Service).where(Service.organisation_id == actor.organisation_id)
    if ids is not None:
        pool_ids = select(PanelPoolMember.service_id).where(
            PanelPoolMember.person_id == actor.person_id)
        query = query.where(Service.id.in_(ids) | Service.id.in_(pool_ids))
    return query.order_by(Service.name, Service.id)


@bp.route("/vacancies/new", methods=["GET", "POST"])
@requires("recruitment.manage")
def new_vacancy():
    """Open a vacancy at a service you manage."""
    form = forms.VacancyForm()
    picker = service_picker(service_choices_query(current_actor(), [Role.manager]))
    form.service_id.choices = picker.choices(form.service_id.data)
    if form.validate_on_submit():
        service = picker.get(form.service_id.data)
        try:
            vacancy = services.create_vacancy(
                service=service, role_title=form.role_title.data,
                description=form.description.data or "", closing_date=form.closing_date.data,
                interview_dates=form.interview_dates.data or "", by=_me())
        except RecruitmentError as error:
            refuse(error)
        else:
            return done("The vacancy is open. Now build its panel.",
                        url_for("recruitment.vacancy", vacancy_id=vacancy.id))
    return render_template("recruitment/vacancy_form.html", form=form, picker=picker)


@bp.route("/vacancies/<int:vacancy_id>/edit", methods=["GET", "POST"])
@requires("recruitment.manage", load=load_vacancy)
def edit_vacancy(vacancy: Vacancy):
    """Correct a vacancy's title, description, closing date or interview days."""
    form = forms.VacancyForm(obj=vacancy if request.method == "GET" else None)
    del form.service_id  # the panel and the question bank belong to the service
    if form.validate_on_submit():
        try:
            services.update_vacancy(
                vacancy, role_title=form.role_title.data,
                description=form.description.data or "", closing_date=form.closing_date.data,
                interview_dates=form.interview_dates.data or "", by=_me())
        except RecruitmentError as error:
            refuse(error)
        else:
            return done("The vacancy is changed.",
                        url_for("recruitment.vacancy", vacancy_id=vacancy.id))
    return render_template("recruitment/vacancy_form.html", form=form, vacancy=vacancy)


# --- a vacancy and its panel --------------------------------------------------------------

def _panel_choices(vacancy: Vacancy) -> list[tuple[int, str]]:
    on_panel = {m.person_id for m in vacancy.active_members}
    ready = db.session.scalars(select(PanelPoolMember).where(
        PanelPoolMember.service_id == vacancy.service_id)).all()
    choices = [(p.person_id, f"{p.person.full_name} (service user)") for p in ready
               if p.is_ready and p.person_id not in on_panel]
    seen = {c[0] for c in choices} | on_panel
    for role in (Role.manager, Role.staff):
        for person in people_with_role(role, vacancy.service_id):
            if person.id not in seen:
                choices.append((person.id, f"{person.full_name} ({role.label.lower()})"))
                seen.add(person.id)
    return choices


@bp.get("/vacancies/<int:vacancy_id>")
@requires("recruitment.view_vacancy", load=load_vacancy)
def vacancy(vacancy: Vacancy):
    """A vacancy: its panel, candidates, questions and, for each member, their sheets."""
    return _vacancy_page(vacancy)


def _vacancy_page(vacancy: Vacancy, candidate_form: forms.CandidateForm | None = None):
    """The vacancy page; a refused candidate form comes back filled in, so nothing is lost."""
    vacancy = queries.load_vacancy_page(vacancy)
    me = vacancy.member_for(_me())
    context = {"vacancy": vacancy, "me": me,
               "my_sheets": queries.sheets_of(me) if me else {},
               "manages": can("recruitment.manage", vacancy),
               "runs": can("recruitment.run_panel", vacancy),
               "submitted": queries.submitted_count(vacancy)}
    if context["manages"]:
        pool = {p.person_id: p for p in db.session.scalars(select(PanelPoolMember).where(
            PanelPoolMember.service_id == vacancy.service_id))}
        member_form = forms.PanelMemberForm()
        member_form.person_id.choices = _panel_choices(vacancy)
        chair_form = forms.ChairForm()
        chair_form.chair_id.choices = [(m.person_id, m.person.full_name)
                                       for m in vacancy.staff_members]
        context.update(pool=pool, member_form=member_form, chair_form=chair_form,
                       candidate_form=candidate_form or forms.CandidateForm())
    if context["manages"] and vacancy.status is VacancyStatus.interviewing:
        context["replace_form"] = _replace_form(vacancy)
    if context["runs"]:
        context["all_sheets"] = queries.all_sheets(vacancy)
        context["missing"] = queries.missing_sheets(vacancy) \
            if vacancy.status is VacancyStatus.interviewing else {}
        chosen = {q.question_id for q in vacancy.questions}
        question_form = forms.ChooseQuestionForm()
        question_form.question_id.choices = [
            (q.id, q.text) for q in queries.question_bank(vacancy.service) if q.id not in chosen]
        context["question_form"] = question_form
    return render_template("recruitment/vacancy.html", **context)


def _back(vacancy: Vacancy, anchor: str = "") -> str:
    return url_for("recruitment.vacancy", vacancy_id=vacancy.id) + anchor


@bp.post("/vacancies/<int:vacancy_id>/members")
@requires("recruitment.manage", load=load_vacancy)
def add_member(vacancy: Vacancy):
    """Put someone on the panel."""
    form = forms.PanelMemberForm()
    form.person_id.choices = _panel_choices(vacancy)
    target = _back(vacancy, "#panel")
    if not form.validate():
        flash("Please choose someone from the list: staff of this service or a ready service "
              "user from its pool.", "error")
        return redirect(target)
    try:
        member = services.add_panel_member(vacancy, db.session.get(Person, form.person_id.data),
                                           by=_me(), shortlists=form.shortlists.data,
                                           interviews=form.interviews.data)
    except RecruitmentError as error:
        return refuse(error, target)
    return done(f"{member.person.full_name} is on the panel.", target)


@bp.post("/members/<int:member_id>/remove")
@requires("recruitment.manage", load=load_member)
def remove_member(member: PanelMember):
    """Take someone off a panel that is not yet confirmed."""
    vacancy, name = member.vacancy, member.person.full_name
    try:
        services.remove_panel_member(member, by=_me())
    except RecruitmentError as error:
        return refuse(error, _back(vacancy, "#panel"))
    return done(f"{name} is no longer on the panel.", _back(vacancy, "#panel"))


@bp.post("/vacancies/<int:vacancy_id>/chair")
@requires("recruitment.manage", load=load_vacancy)
def set_chair(vacancy: Vacancy):
    """Choose the panel's chair."""
    form = forms.ChairForm()
    form.chair_id.choices = [(m.person_id, m.person.full_name) for m in vacancy.staff_members]
    target = _back(vacancy, "#panel")
    if not form.validate():
        flash("The chair must be a member of staff who sits on this panel.", "error")
        return redirect(target)
    try:
        services.set_chair(vacancy, db.session.get(Person, form.chair_id.data), by=_me())
    except RecruitmentError as error:
        return refuse(error, target)
    return done("The chair is chosen.", target)


@bp.post("/vacancies/<int:vacancy_id>/confirm")
@requires("recruitment.manage", load=load_vacancy)
def confirm_panel(vacancy: Vacancy):
    """Confirm the panel so that interviews and scoring can start."""
    try:
        services.confirm_panel(vacancy, by=_me())
    except RecruitmentError as error:
        return refuse(error, _back(vacancy, "#panel"))
    return done("The panel is confirmed. Scoring is open.", _back(vacancy))


def _replace_form(vacancy: Vacancy) -> forms.ReplaceMemberForm:
    form = forms.ReplaceMemberForm()
    form.leaving_id.choices = [(m.id, f"{m.person.full_name} ({m.kind.label.lower()})")
                               for m in vacancy.active_members]
    form.replacement_id.choices = [(0, "No one: the panel carries on without them")] + \
        _panel_choices(vacancy)
    return form


@bp.post("/vacancies/<int:vacancy_id>/replace")
@requires("recruitment.manage", load=load_vacancy)
def replace_member(vacancy: Vacancy):
    """Someone drops out of a confirmed panel; someone else may take their place."""
    form = _replace_form(vacancy)
    target = _back(vacancy, "#panel")
    if not form.validate():
        flash("Please choose who is leaving from the panel, and who takes their place from the "
              "list.", "error")
        return redirect(target)
    leaving = next(m for m in vacancy.active_members if m.id == form.leaving_id.data)
    replacement = db.session.get(Person, form.replacement_id.data) \
        if form.replacement_id.data else None
    name = leaving.person.full_name
    try:
        joined = services.replace_panel_member(leaving, replacement=replacement, by=_me())
    except RecruitmentError as error:
        return refuse(error, target)
    message = f"{name} has left the panel."
    if joined is not None:
        message += f" {joined.person.full_name} takes their place."
        if vacancy.chair_id == joined.person_id and joined.kind.value == "staff":
            message += " They chair the panel now."
    return done(message, target)


@bp.post("/vacancies/<int:vacancy_id>/remind")
@requires("recruitment.run_panel", load=load_vacancy)
def remind(vacancy: Vacancy):
    """Remind, once each, the members who have not sent all their scores."""
    try:
        reminders = services.remind_missing_sheets(vacancy, by=_me())
    except RecruitmentError as error:
        return refuse(error, _back(vacancy, "#sheets"))
    ids = [r.id for r in reminders]
    names = ", ".join(f"{r.member.person.full_name} ({r.channel.label.lower()})"
                      for r in reminders)
    try:
        db.session.commit()
    except IntegrityError:
        # Someone else sent the same reminders a moment ago: no one is reminded twice.
        db.session.rollback()
        flash("Those reminders were sent a moment ago by someone else.", "error")
        return redirect(_back(vacancy, "#sheets"))
    from involve.recruitment.tasks import send_score_reminders

    send_score_reminders(ids)
    flash(f"Reminded: {names}. Each person is reminded once.", "success")
    return redirect(_back(vacancy, "#sheets"))


# --- candidates ---------------------------------------------------------------------------

@bp.post("/vacancies/<int:vacancy_id>/candidates")
@requires("recruitment.manage", load=load_vacancy)
def add_candidate(vacancy: Vacancy):
    """Record a candidate."""
    form = forms.CandidateForm()
    if not form.validate():
        flash(_first_error(form), "error")
        return _vacancy_page(vacancy, candidate_form=form)
    try:
        candidate = services.add_candidate(
            vacancy, first_name=form.first_name.data, last_name=form.last_name.data or "",
            email=form.email.data, phone=form.phone.data,
            told_about_panel_on=form.told_about_panel_on.data,
            interview_at=clock.from_local(form.interview_at.data), by=_me())
    except RecruitmentError as error:
        refuse(error)
        return _vacancy_page(vacancy, candidate_form=form)
    return done(f"Candidate {candidate.code} is recorded.", _back(vacancy, "#candidates"))


@bp.route("/candidates/<int:candidate_id>", methods=["GET", "POST"])
@requires("recruitment.manage", load=load_candidate)
def edit_candidate(candidate: JobCandidate):
    """A candidate's contact details, when they were told about the panel, and their slot."""
    form = forms.CandidateEditForm(obj=candidate if request.method == "GET" else None)
    if request.method == "GET":
        form.interview_at.data = clock.wall_clock(candidate.interview_at)
    if form.validate_on_submit():
        try:
            services.update_candidate(candidate, email=form.email.data, phone=form.phone.data,
                                      told_about_panel_on=form.told_about_panel_on.data,
                                      interview_at=clock.from_local(form.interview_at.data),
                                      by=_me())
        except RecruitmentError as error:
            refuse(error)
        else:
            return done(f"Candidate {candidate.code} is updated.", _back(candidate.vacancy,
                                                                          "#candidates"))
    return render_template("recruitment/candidate.html", candidate=candidate, form=form)


# --- questions ----------------------------------------------------------------------------

@bp.route("/services/<int:service_id>/questions", methods=["GET", "POST"])
@requires("recruitment.questions", load=load_service)
def questions(service: Service):
    """A service's question bank; service users write their own, or staff write them down."""
    form = forms.QuestionForm()
    me = _me()
    staff = can("recruitment.manage", service) or current_actor().has_role(
        [Role.staff], service.id)
    choices = [(0, "My own question")]
    if staff:
        choices += [(p.person_id, f"{p.person.full_name}'s question")
                    for p in queries.pool(current_actor(), {service.id})]
    form.written_by_id.choices = choices
    if form.validate_on_submit():
        author = db.session.get(Person, form.written_by_id.data) if form.written_by_id.data \
            else me
        try:
            services.add_question(service, text=form.text.data, written_by=author, by=me)
        except RecruitmentError as error:
            refuse(error)
        else:
            return done("Thank you. The question is in the bank.",
                        url_for("recruitment.questions", service_id=service.id))
    return render_template("recruitment/questions.html", service=service, form=form,
                           questions=queries.question_bank(service))


@bp.post("/vacancies/<int:vacancy_id>/questions")
@requires("recruitment.run_panel", load=load_vacancy)
def choose_question(vacancy: Vacancy):
    """Add a question from the bank to this interview."""
    form = forms.ChooseQuestionForm()
    question = db.session.get(InterviewQuestion, form.question_id.data or 0)
    target = _back(vacancy, "#questions")
    if question is None:
        flash("Please choose a question from the list.", "error")
        return redirect(target)
    try:
        chosen = services.choose_question(vacancy, question, by=_me())
    except RecruitmentError as error:
        return refuse(error, target)
    db.session.commit()
    flash("The question is on the interview. Now agree what good, average and poor answers "
          "sound like.", "success")
    return redirect(url_for("recruitment.agree_answers", question_id=chosen.id))


@bp.route("/interview-questions/<int:question_id>", methods=["GET", "POST"])
@requires("recruitment.run_panel", load=load_vacancy_question)
def agree_answers(chosen: VacancyQuestion):
    """Agree what good, average and poor answers sound like, and who asks the question."""
    vacancy = chosen.vacancy
    form = forms.AgreeAnswersForm(obj=chosen if request.method == "GET" else None)
    form.asked_by_id.choices = [(0, "Not decided yet")] + [
        (m.person_id, m.person.full_name) for m in vacancy.members]
    if request.method == "GET":
        form.asked_by_id.data = chosen.asked_by_id or 0
    if form.validate_on_submit():
        asked_by = db.session.get(Person, form.asked_by_id.data) if form.asked_by_id.data \
            else None
        try:
            services.agree_answers(chosen, good_answer=form.good_answer.data or "",
                                   average_answer=form.average_answer.data or "",
                                   poor_answer=form.poor_answer.data or "", asked_by=asked_by,
                                   by=_me())
        except RecruitmentError as error:
            refuse(error)
        else:
            return done("The agreed answers are saved.", _back(vacancy, "#questions"))
    return render_template("recruitment/agree_answers.html", chosen=chosen, form=form)


# --- scoring ------------------------------------------------------------------------------

@bp.route("/candidates/<int:candidate_id>/score", methods=["GET", "POST"])
@requires("recruitment.score", load=load_candidate)
def score(candidate: JobCandidate):
    """A panel member's own score sheet for one candidate."""
    vacancy = queries.load_vacancy_page(candidate.vacancy)
    member = vacancy.member_for(_me())
    sheet = services.sheet_for(member, candidate)
    scale = sheet.scale if sheet else member.scale
    form = forms.score_sheet_form(vacancy.questions, scale)
    if request.method == "GET" and sheet is not None:
        for saved in sheet.scores:
            form[f"score_{saved.vacancy_question_id}"].data = saved.value
            form[f"comment_{saved.vacancy_question_id}"].data = saved.comment
    if request.method == "POST":
        if sheet is not None and sheet.is_submitted:
            flash("You have already sent your scores for this candidate. They are locked and "
                  "cannot be changed.", "error")
            return redirect(url_for("recruitment.score", candidate_id=candidate.id))
        if form.validate():
            answers = {q.id: (form[f"score_{q.id}"].data, form[f"comment_{q.id}"].data or "")
                       for q in vacancy.questions}
            submit = request.form.get("action") == "submit"
            try:
                services.save_scores(candidate, by=_me(), answers=answers, submit=submit)
            except RecruitmentError as error:
                refuse(error)
                _mark_unscored(form, error)
            else:
                message = ("Thank you. Your scores are sent." if submit
                           else "Your scores are saved. You can finish them later.")
                return done(message, url_for("recruitment.score", candidate_id=candidate.id))
    others = queries.others_sheets(candidate, member) if sheet and sheet.is_submitted else []
    return render_template("recruitment/score.html", vacancy=vacancy, candidate=candidate,
                           member=member, sheet=sheet, form=form, scale=scale,
                           words=SCALE_WORDS[scale], others=others,
                           too_soon=candidate.interview_at is not None
                           and candidate.interview_at > utcnow())


def _mark_unscored(form, error: RecruitmentError) -> None:
    """Put a message on each question left without a score, so it stands out on the page."""
    for question_id in getattr(error, "question_ids", []):
        form[f"score_{question_id}"].errors = ["Please choose a face for this question."]


@bp.route("/candidates/<int:candidate_id>/paper", methods=["GET", "POST"])
@requires("recruitment.enter_paper_sheet", load=load_candidate)
def enter_paper_sheet(candidate: JobCandidate):
    """Type in a panel member's scores for a candidate from the paper sheet they filled in."""
    vacancy = queries.load_vacancy_page(candidate.vacancy)
    member = next((m for m in vacancy.active_members
                   if str(m.id) == request.args.get("member", "")), None)
    if member is None:
        abort(404)
    sheet = services.sheet_for(member, candidate)
    scale = sheet.scale if sheet else member.scale
    form = forms.score_sheet_form(vacancy.questions, scale)
    target = url_for("recruitment.enter_paper_sheet", candidate_id=candidate.id,
                     member=member.id)
    if request.method == "POST":
        if sheet is not None and sheet.is_submitted:
            flash(f"{member.person.full_name}'s scores for {candidate.panel_name} were already "
                  "sent. They are locked and cannot be changed.", "error")
            return redirect(target)
        if form.validate():
            answers = {q.id: (form[f"score_{q.id}"].data, form[f"comment_{q.id}"].data or "")
                       for q in vacancy.questions}
            try:
                services.enter_paper_sheet(member, candidate, answers=answers, by=_me())
            except RecruitmentError as error:
                refuse(error)
                _mark_unscored(form, error)
            else:
                return done(f"{member.person.full_name}'s paper sheet for "
                            f"{candidate.panel_name} is entered and sent.",
                            _back(vacancy, "#sheets"))
    return render_template("recruitment/paper_sheet.html", vacancy=vacancy, candidate=candidate,
                           member=member, sheet=sheet, form=form, scale=scale,
                           words=SCALE_WORDS[scale])


@bp.get("/members/<int:member_id>/sheet")
@requires("recruitment.interview_sheet", load=load_member)
def interview_sheet(member: PanelMember):
    """A panel member's interview sheet in large print, to print and write on."""
    vacancy = queries.load_vacancy_page(member.vacancy)
    return render_template("recruitment/interview_sheet.html", vacancy=vacancy, member=member,
                           words=SCALE_WORDS[member.scale])


@bp.get("/vacancies/<int:vacancy_id>/compare")
@requires("recruitment.run_panel", load=load_vacancy)
def compare(vacancy: Vacancy):
    """Staff and service-user scores side by side, per candidate and question."""
    vacancy = queries.load_vacancy_page(vacancy)
    return render_template("recruitment/compare.html", vacancy=vacancy,
                           comparisons=queries.compare(vacancy),
                           sheets=queries.submitted_sheets(vacancy),
                           threshold=queries.THRESHOLD_ON_FIVE)


# --- the decision -------------------------------------------------------------------------

@bp.route("/vacancies/<int:vacancy_id>/decision", methods=["GET", "POST"])
@requires("recruitment.run_panel", load=load_vacancy)
def decision(vacancy: Vacancy):
    """Record who is appointed, why, and how the service users' views were weighed."""
    if vacancy.decision is not None:
        if request.method == "POST":
            flash("The decision is already recorded and cannot be changed.", "error")
            return redirect(url_for("recruitment.decision", vacancy_id=vacancy.id))
        return render_template("recruitment/decision.html", vacancy=vacancy, form=None)
    form = forms.DecisionForm()
    form.appointed_id.choices = [(0, "No one is appointed")] + [
        (c.id, c.panel_name) for c in vacancy.candidates]
    if form.validate_on_submit():
        appointed = db.session.get(JobCandidate, form.appointed_id.data) \
            if form.appointed_id.data else None
        try:
            services.record_decision(vacancy, appointed=appointed, reasons=form.reasons.data,
                                     service_user_views=form.service_user_views.data, by=_me())
        except RecruitmentError as error:
            refuse(error)
        else:
            db.session.commit()
            from involve.recruitment.tasks import tell_panel_outcome

            tell_panel_outcome(vacancy.id)
            flash("The decision is recorded. The service users on the panel are told.",
                  "success")
            return redirect(url_for("recruitment.decision", vacancy_id=vacancy.id))
    return render_template("recruitment/decision.html", vacancy=vacancy, form=form,
                           comparisons=queries.compare(vacancy), no_names_hint=forms.NO_NAMES_HINT)


# --- the pool, recognition, statistics ----------------------------------------------------

@bp.route("/pool", methods=["GET", "POST"])
@requires("recruitment.manage")
def pool():
    """The service users who sit on panels at the services you manage."""
    managed = _managed_services()
    form = forms.PoolMemberForm()
    people: dict[int, tuple[Person, Service]] = {}
    advocates: dict[int, Person] = {}
    for service in managed:
        for person in people_with_role(Role.service_user, service.id, include_organisation=False):
            people.setdefault(person.id, (person, service))
        for role in (Role.staff, Role.family, Role.partner):
            for person in people_with_role(role, service.id):
                advocates.setdefault(person.id, person)
    form.person_id.choices = [(pid, f"{p.full_name} ({s.name})")
                              for pid, (p, s) in people.items()]
    form.advocate_id.choices = [(0, "No advocate")] + [
        (a.id, a.full_name) for a in sorted(advocates.values(), key=lambda a: a.full_name)]
    if form.validate_on_submit():
        person, service = people[form.person_id.data]
        advocate = advocates.get(form.advocate_id.data)
        try:
            services.add_pool_member(
                service=service, person=person,
                training_completed_on=form.training_completed_on.data,
                confidentiality_signed_on=form.confidentiality_signed_on.data,
                support_needs=form.support_needs.data or "", advocate=advocate,
                prefers_simple_scale=form.prefers_simple_scale.data, by=_me())
        except RecruitmentError as error:
            refuse(error)
        else:
            return done(f"{person.full_name} is in the panel pool.", url_for("recruitment.pool"))
    actor = current_actor()
    return render_template("recruitment/pool.html", form=form,
                           pool=queries.pool(actor, actor.service_ids([Role.manager])))


def _recognition_form(person: Person) -> forms.RecognitionForm:
    form = forms.RecognitionForm()
    services_of = [s for s in _managed_services()
                   if any(g.service_id in (s.id, None) for g in person.active_grants())]
    form.service_id.choices = [(s.id, s.name) for s in services_of]
    vacancies = db.session.scalars(select(Vacancy).join(PanelMember).where(
        PanelMember.person_id == person.id).order_by(Vacancy.closing_date.desc())).all()
    form.vacancy_id.choices = [(0, "None")] + [(v.id, v.role_title) for v in vacancies]
    return form


@bp.get("/people/<int:person_id>/recognition")
@requires("recruitment.recognition", load=load_person)
def recognition(person: Person):
    """A participant's recognition log: hours, payments and vouchers."""
    form = _recognition_form(person) if can("recruitment.recognition_manage", person) else None
    return _recognition_page(person, form)


def _recognition_page(person: Person, form: forms.RecognitionForm | None):
    """The recognition log; a refused entry comes back filled in, so nothing is lost."""
    entries = queries.recognition_log(person.id)
    return render_template("recruitment/recognition.html", person=person, entries=entries,
                           form=form, advice=BENEFITS_ADVICE,
                           hours=sum((e.hours for e in entries), Decimal(0)))


@bp.post("/people/<int:person_id>/recognition")
@requires("recruitment.recognition_manage", load=load_person)
def add_recognition(person: Person):
    """Record time someone gave, and how it was recognised."""
    form = _recognition_form(person)
    target = url_for("recruitment.recognition", person_id=person.id)
    if not form.validate():
        flash(_first_error(form), "error")
        return _recognition_page(person, form)
    amount = form.amount.data
    try:
        services.record_recognition(
            person, service=db.session.get(Service, form.service_id.data),
            vacancy=db.session.get(Vacancy, form.vacancy_id.data) if form.vacancy_id.data
            else None, took_part_on=form.took_part_on.data, activity=form.activity.data or "",
            hours=form.hours.data, reward=Reward(form.reward.data),
            amount_pence=int(amount * 100) if amount is not None else None, by=_me())
    except RecruitmentError as error:
        refuse(error)
        return _recognition_page(person, form)
    message = "Recorded."
    if form.reward.data != Reward.none.value:
        message += " " + BENEFITS_ADVICE
    return done(message, target)


@bp.get("/statistics")
@requires("recruitment.statistics")
def statistics():
    """How often the candidate the service users rated highest was the one appointed."""
    return render_template("recruitment/statistics.html",
                           rows=queries.statistics(current_actor()))

