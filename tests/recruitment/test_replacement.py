"""A member who drops out of a confirmed panel can be replaced; the 3-4 rule still holds."""

from sqlalchemy import func, select

from involve.audit import AuditEvent
from involve.extensions import db
from involve.people.models import Role
from involve.recruitment.models import MemberKind, PanelMember, ScoreSheet
from tests.conftest import login
from tests.factories import make_person
from tests.recruitment.helpers import make_panel, ready_pool_member, score_all


def _ready_user(world, name="Nora Stepin"):
    person = make_person(world.org, name, roles=[(Role.service_user, world.home)])
    ready_pool_member(world.home, person, world.people["manager"])
    db.session.commit()
    return person


def _replace(client, panel, leaving, replacement):
    return client.post(f"/recruitment/vacancies/{panel.vacancy.id}/replace", data={
        "leaving_id": panel.vacancy.member_for(leaving).id,
        "replacement_id": replacement.id if replacement else 0}, follow_redirects=True)


def _state(panel):
    db.session.expire_all()
    return sorted((m.person_id, m.left_at is None) for m in db.session.scalars(
        select(PanelMember).where(PanelMember.vacancy_id == panel.vacancy.id)))


def test_a_service_user_who_drops_out_is_replaced_from_the_pool(app, world, client):
    panel = make_panel(world)
    leaving = panel.service_users[1]
    score_all(panel, leaving, panel.candidates[0], 4)  # sent before they dropped out
    score_all(panel, leaving, panel.candidates[1], 2, submit=False)  # a draft
    newcomer = _ready_user(world)
    login(client, world.people["manager"])
    page = client.get(f"/recruitment/vacancies/{panel.vacancy.id}").get_data(as_text=True)
    assert "Someone has dropped out" in page
    page = _replace(client, panel, leaving, newcomer).get_data(as_text=True)
    assert f"{leaving.full_name} has left the panel. {newcomer.full_name} takes their place." \
        in page
    assert "Left the panel" in page
    vacancy = panel.vacancy
    assert vacancy.member_for(leaving) is None
    assert vacancy.member_for(newcomer).kind is MemberKind.service_user
    assert len(vacancy.service_user_members) == 3
    # What they sent stays; the draft goes.
    sheets = db.session.scalars(select(ScoreSheet)).all()
    assert [(s.candidate_id, s.is_submitted) for s in sheets] == [(panel.candidates[0].id, True)]
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "recruitment.panel_member_left")).details["replaced_by"] == \
        newcomer.id
    # The one who left no longer scores or sees the panel; the newcomer does.
    login(client, leaving)
    assert client.get(f"/recruitment/candidates/{panel.candidates[1].id}/score").status_code \
        == 403
    login(client, newcomer)
    assert client.get(f"/recruitment/candidates/{panel.candidates[1].id}/score").status_code \
        == 200


def test_leaving_without_a_replacement_that_breaks_the_three_to_four_rule_is_refused(
        app, world, client):
    panel = make_panel(world)
    db.session.commit()
    before = _state(panel)
    login(client, world.people["manager"])
    page = _replace(client, panel, panel.service_users[0], None).get_data(as_text=True)
    assert "A panel needs three or four service users; without" in page
    assert "it would have 2. Choose a service user from the pool to take their place." in page
    assert _state(panel) == before


def test_leaving_from_four_without_a_replacement_is_allowed(app, world, client):
    panel = make_panel(world, service_users=4)
    db.session.commit()
    login(client, world.people["manager"])
    page = _replace(client, panel, panel.service_users[3], None).get_data(as_text=True)
    assert "has left the panel." in page
    assert len(panel.vacancy.service_user_members) == 3


def test_a_fifth_service_user_cannot_come_in_for_a_member_of_staff(app, world, client):
    panel = make_panel(world, service_users=4)
    extra_staff = make_person(world.org, "Second Staff", roles=[(Role.staff, world.home)])
    db.session.commit()
    from involve.recruitment import services

    services.replace_panel_member(panel.vacancy.member_for(panel.chair),
                                  replacement=extra_staff, by=world.people["manager"])
    db.session.commit()
    assert panel.vacancy.chair_id == extra_staff.id  # the new staff member chairs
    newcomer = _ready_user(world)
    before = _state(panel)
    login(client, world.people["manager"])
    page = _replace(client, panel, extra_staff, newcomer).get_data(as_text=True)
    assert "A panel has at most 4 service users." in page
    assert _state(panel) == before


def test_the_chair_can_only_be_replaced_by_staff(app, world, client):
    panel = make_panel(world)
    newcomer = _ready_user(world)
    before = _state(panel)
    login(client, world.people["manager"])
    page = _replace(client, panel, panel.chair, newcomer).get_data(as_text=True)
    assert "A panel needs at least one member of staff. Choose a member of staff to take" in page
    assert _state(panel) == before
    assert panel.vacancy.chair_id == panel.chair.id


def test_the_chair_leaving_hands_the_chair_to_the_staff_member_who_comes_in(app, world):
    from involve.recruitment import services

    panel = make_panel(world)
    newcomer = make_person(world.org, "New Chair", roles=[(Role.staff, world.home)])
    services.replace_panel_member(panel.vacancy.member_for(panel.chair), replacement=newcomer,
                                  by=world.people["manager"])
    assert panel.vacancy.chair_id == newcomer.id


def test_someone_not_ready_or_already_on_the_panel_cannot_take_the_place(app, world, client):
    panel = make_panel(world)
    not_ready = make_person(world.org, "Not Trained", roles=[(Role.service_user, world.home)])
    db.session.commit()
    before = _state(panel)
    login(client, world.people["manager"])
    # Not in the pool: not a choice on the list.
    page = _replace(client, panel, panel.service_users[1], not_ready).get_data(as_text=True)
    assert "Please choose who is leaving from the panel" in page
    page = _replace(client, panel, panel.service_users[1], panel.service_users[2]).get_data(
        as_text=True)
    assert "Please choose who is leaving" in page
    assert _state(panel) == before


def test_replacing_waits_for_the_panel_to_be_confirmed(app, world, client):
    panel = make_panel(world, confirm=False)
    newcomer = _ready_user(world)
    before = _state(panel)
    login(client, world.people["manager"])
    page = _replace(client, panel, panel.service_users[1], newcomer).get_data(as_text=True)
    assert "Someone can be replaced once the panel is confirmed" in page
    assert _state(panel) == before
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "recruitment.panel_member_left")) == 0
