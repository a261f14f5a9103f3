"""An organisation-wide manager's recruitment pages: the question banks a page at a time, and
the new vacancy's service from the first few or found by name, never another
organisation's."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from involve.extensions import db
from involve.people.models import Role, RoleGrant
from involve.pickers import PICKER_SIZE
from involve.recruitment.models import Vacancy
from tests.conftest import login
from tests.factories import make_person, make_service, make_strangers


def test_an_organisation_wide_manager_gets_pages_and_a_search(client, world):
    made = [make_service(world.org, f"Umber House {n:02}") for n in range(PICKER_SIZE + 10)]
    wide = make_person(world.org, "Wide Manager", roles=[(Role.manager, None)])
    strangers = make_strangers(world)
    lodge = db.session.scalar(select(RoleGrant.service_id).where(
        RoleGrant.person_id == strangers["staff"].id))
    db.session.commit()
    login(client, wide)
    index = client.get("/recruitment/").text
    assert index.count("Questions for ") == 25 and "Next page" in index
    assert "New vacancy" in index
    assert "Questions for Umber House 29" in client.get("/recruitment/?banks_page=2").text
    form = client.get("/recruitment/vacancies/new").text
    options = form[form.index('id="service_id"'):]
    assert options[:options.index("</select>")].count("<option") == PICKER_SIZE
    found = client.get("/recruitment/vacancies/new?service_q=house 29").text
    assert f'value="{made[29].id}">Umber House 29' in found
    assert "Elsewhere" not in client.get("/recruitment/vacancies/new?service_q=else").text
    data = {"role_title": "Night care worker", "description": "Nights",
            "closing_date": (date.today() + timedelta(days=30)).isoformat(),
            "interview_dates": "Monday"}
    response = client.post("/recruitment/vacancies/new", data={**data, "service_id": lodge})
    assert response.status_code == 200
    assert db.session.scalar(select(func.count(Vacancy.id))) == 0
    response = client.post("/recruitment/vacancies/new", data={**data,
                                                                "service_id": made[29].id})
    assert response.status_code == 302
    assert db.session.scalar(select(Vacancy.service_id)) == made[29].id
