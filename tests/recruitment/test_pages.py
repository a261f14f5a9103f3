"""Every page opens for the people who use it, with the right things on it."""

from involve.extensions import db
from tests.conftest import login
from tests.recruitment.helpers import make_panel, score_all


def test_pages_open_for_their_users(app, world, client):
    panel = make_panel(world)
    score_all(panel, world.people["service_user"], panel.candidates[0], 4)
    db.session.commit()
    v = panel.vacancy.id
    member = panel.member(world.people["service_user"]).id
    pages = {
        "manager": ["/recruitment/", "/recruitment/vacancies/new", f"/recruitment/vacancies/{v}",
                    f"/recruitment/candidates/{panel.candidates[0].id}", "/recruitment/pool",
                    f"/recruitment/services/{world.home.id}/questions",
                    f"/recruitment/vacancies/{v}/compare", f"/recruitment/vacancies/{v}/decision",
                    f"/recruitment/interview-questions/{panel.questions[0].id}",
                    f"/recruitment/people/{world.people['service_user'].id}/recognition",
                    "/recruitment/statistics", f"/recruitment/members/{member}/sheet"],
        "service_user": ["/", "/recruitment/", f"/recruitment/vacancies/{v}",
                         f"/recruitment/candidates/{panel.candidates[0].id}/score",
                         f"/recruitment/candidates/{panel.candidates[1].id}/score",
                         f"/recruitment/members/{member}/sheet",
                         f"/recruitment/services/{world.home.id}/questions"],
        "staff": [f"/recruitment/vacancies/{v}/compare",
                  f"/recruitment/candidates/{panel.candidates[0].id}/score"],
        "board": ["/recruitment/statistics"],
    }
    for role, urls in pages.items():
        login(client, world.people[role])
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, (role, url, response.status_code)


def test_panel_members_see_first_name_and_code_but_no_contact_details(app, world, client):
    panel = make_panel(world)
    login(client, world.people["service_user"])
    page = client.get(f"/recruitment/vacancies/{panel.vacancy.id}").get_data(as_text=True)
    assert "Sam (candidate A)" in page
    assert "candidate0@applicant.example" not in page
    assert "Applicant" not in page  # last name
    assert "a break after each interview" not in page  # others' support needs

    login(client, world.people["manager"])
    page = client.get(f"/recruitment/vacancies/{panel.vacancy.id}").get_data(as_text=True)
    assert "candidate0@applicant.example" in page
    assert "a break after each interview" in page


def test_home_panel_lists_the_panels_a_person_sits_on(app, world, client):
    panel = make_panel(world)
    login(client, world.people["service_user"])
    page = client.get("/").get_data(as_text=True)
    assert "Interview panels" in page and panel.vacancy.role_title in page
    login(client, world.ambassador)  # a service user of the same home, not on the panel
    page = client.get("/").get_data(as_text=True)
    assert panel.vacancy.role_title not in page


def test_interview_sheet_prints_in_large_print(app, world, client):
    panel = make_panel(world)
    login(client, world.people["service_user"])
    member = panel.member(world.people["service_user"])
    page = client.get(f"/recruitment/members/{member.id}/sheet").get_data(as_text=True)
    assert 'class="large-print"' in page
    assert "(you ask this one)" in page
    assert "Listens and asks me" in page
    assert page.count("What would you do if question 1?") == 2  # once per candidate


def test_vacancy_page_runs_a_bounded_number_of_statements(app, world, client):
    from tests.conftest import count_queries

    panel = make_panel(world, candidates=4, questions=5)
    login(client, world.people["manager"])
    with count_queries() as small:
        client.get(f"/recruitment/vacancies/{panel.vacancy.id}")
    panel2 = make_panel(world, candidates=2, questions=1)
    with count_queries() as smaller:
        client.get(f"/recruitment/vacancies/{panel2.vacancy.id}")
    assert small.count <= smaller.count + 3, (small.count, smaller.count)


def test_the_vacancy_description_editor_says_how_markdown_works(app, world, client):
    from involve.text import EDITOR_HINT

    login(client, world.people["manager"])
    page = client.get("/recruitment/vacancies/new").get_data(as_text=True)
    # The description is shown as Markdown on the vacancy page, so its editor carries the hint.
    assert f'<p class="hint" id="description-hint">{EDITOR_HINT}</p>' in page
    assert 'aria-describedby="description-hint"' in page


def test_every_control_on_the_vacancy_page_has_its_own_id_and_label(app, world, client):
    import re

    panel = make_panel(world, confirm=False)
    login(client, world.people["manager"])
    page = client.get(f"/recruitment/vacancies/{panel.vacancy.id}").get_data(as_text=True)
    ids = re.findall(r'<(?:select|input|textarea)[^>]*\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), sorted(ids)
    assert '<label for="chair_id">Chair</label>' in page
    assert '<select id="chair_id" name="chair_id"' in page


def test_back_links_are_large_enough_to_tap(app, world, client):
    panel = make_panel(world)
    login(client, world.people["manager"])
    v = panel.vacancy.id
    for url in (f"/recruitment/vacancies/{v}/edit", f"/recruitment/vacancies/{v}/decision",
                f"/recruitment/candidates/{panel.candidates[0].id}",
                f"/recruitment/interview-questions/{panel.questions[0].id}"):
        page = client.get(url).get_data(as_text=True)
        assert '<a class="back-link" href=' in page, url
