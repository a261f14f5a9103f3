"""The Freedom to Speak Up guardian is chosen from the first few people with an email
address, or found by a search that never offers anyone of another organisation."""

from __future__ import annotations

from involve.extensions import db
from involve.feedback import services
from involve.pickers import PICKER_SIZE
from tests.conftest import login
from tests.factories import make_person, make_strangers


def _guardian_options(page: str) -> str:
    part = page[page.index('id="speak_up_guardian_id"'):]
    return part[:part.index("</select>")]


def test_the_guardian_picker_offers_a_few_and_finds_the_rest(client, world):
    many = [make_person(world.org, f"Zoe Carer {n:02}", roles=[("staff", world.away)])
            for n in range(PICKER_SIZE + 5)]
    make_person(world.org, "Zoe Noemail", roles=[("staff", world.home)], username="zoe")
    db.session.commit()
    login(client, world.people["admin"])
    options = _guardian_options(client.get("/feedback/settings").text)
    assert options.count("<option") == PICKER_SIZE + 1  # and "Nobody"
    assert 'label for="person_q">Find the guardian by name' in client.get(
        "/feedback/settings").text
    found = client.get("/feedback/settings?person_q=carer 24").text
    assert f'value="{many[24].id}">Zoe Carer 24' in _guardian_options(found)
    assert "Zoe Carer 23" not in found
    assert "Zoe Noemail" not in client.get("/feedback/settings?person_q=zoe").text
    # Someone the first page does not offer is taken, and stays offered afterwards.
    client.post("/feedback/settings", data={"escalation_route": "The Ombudsman.",
                                            "speak_up_guardian_id": str(many[24].id)})
    assert services.settings_for(world.org.id).speak_up_guardian_id == many[24].id
    assert f'<option selected value="{many[24].id}">' in _guardian_options(
        client.get("/feedback/settings").text)


def test_nobody_of_another_organisation_is_offered_or_taken(client, world):
    strangers = make_strangers(world)
    login(client, world.people["admin"])
    page = client.get("/feedback/settings?person_q=elsewhere").text
    assert "Elsewhere" not in _guardian_options(page)
    for value in (strangers["manager"].id, "2147483648", "nonsense"):
        response = client.post("/feedback/settings", data={
            "escalation_route": "The Ombudsman.", "speak_up_guardian_id": str(value)})
        assert "Please check the form." in response.text
        assert services.settings_for(world.org.id) is None
    login(client, strangers["admin"])
    page = client.get("/feedback/settings?person_q=home").text
    assert "Home" not in _guardian_options(page)
