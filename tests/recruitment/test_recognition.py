"""The recognition log: hours, payments and vouchers, with a word about benefits."""

from datetime import date

from sqlalchemy import func, select

from involve.extensions import db
from involve.recruitment.models import RecognitionEntry, Reward
from tests.conftest import login
from tests.recruitment.helpers import make_panel


def _count():
    return db.session.scalar(select(func.count()).select_from(RecognitionEntry))


def test_a_manager_records_a_voucher_and_is_reminded_about_benefits(app, world, client):
    panel = make_panel(world)
    db.session.commit()
    person = world.people["service_user"]
    login(client, world.people["manager"])
    response = client.post(f"/recruitment/people/{person.id}/recognition", data={
        "service_id": world.home.id, "vacancy_id": panel.vacancy.id,
        "took_part_on": date.today().isoformat(), "activity": "Interview panel", "hours": "3.5",
        "reward": "voucher", "amount": "25"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Citizens Advice" in page and "welfare rights adviser" in page
    entry = db.session.scalar(select(RecognitionEntry))
    assert (entry.hours, entry.reward, entry.amount_pence) == (3.5, Reward.voucher, 2500)
    # The person sees their own log, with the same advice.
    login(client, person)
    page = client.get(f"/recruitment/people/{person.id}/recognition").get_data(as_text=True)
    assert "£25.00" in page and "Citizens Advice" in page and "3.50 hours in all" in page
    assert 'action="/recruitment/people' not in page  # no form for them


def test_bad_hours_and_a_missing_amount_are_refused(app, world, client):
    person = world.people["service_user"]
    login(client, world.people["manager"])
    base = {"service_id": world.home.id, "vacancy_id": 0,
            "took_part_on": date.today().isoformat(), "reward": "payment"}
    response = client.post(f"/recruitment/people/{person.id}/recognition",
                           data={**base, "hours": "0", "amount": "10"}, follow_redirects=True)
    assert "Hours must be between a quarter and 24." in response.get_data(as_text=True)
    response = client.post(f"/recruitment/people/{person.id}/recognition",
                           data={**base, "hours": "2"}, follow_redirects=True)
    assert "Please give the amount of the payment or voucher." in response.get_data(as_text=True)
    assert _count() == 0


def test_another_service_user_cannot_see_someones_log(app, world, client):
    login(client, world.ambassador)
    response = client.get(f"/recruitment/people/{world.people['service_user'].id}/recognition")
    assert response.status_code == 403


def test_a_refused_entry_keeps_what_was_typed(app, world, client):
    person = world.people["service_user"]
    login(client, world.people["manager"])
    response = client.post(f"/recruitment/people/{person.id}/recognition", data={
        "service_id": world.home.id, "vacancy_id": 0, "took_part_on": "2999-01-01",
        "activity": "Shortlisting with the chair", "hours": "2.5", "reward": "payment",
        "amount": "15"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "The day cannot be in the future." in page
    assert 'value="Shortlisting with the chair"' in page and 'value="2.5"' in page
    assert 'value="15"' in page and 'value="2999-01-01"' in page
    assert _count() == 0
