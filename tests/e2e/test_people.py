"""Browser journeys of people and administration: a person's page, an import, a card."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import assert_accessible, sign_in

pytestmark = pytest.mark.e2e


def _organisation() -> dict:
    from involve.people.models import Role
    from tests import factories

    org = factories.make_org("Brookfield Care")
    home = factories.make_service(org, "Rose Court")
    factories.make_person(org, "Alex Admin", roles=[(Role.admin, None)],
                          email="admin@test.example")
    factories.make_person(org, "Mary Manning", roles=[(Role.manager, home)],
                          email="manager@test.example")
    resident = factories.make_person(org, "Ada Lovelace", roles=[(Role.service_user, home)],
                                     account=False, needs=["large_print"])
    factories.make_person(org, "Fiona Lovelace", roles=[(Role.family, home)], account=False)
    return {"resident": resident.id, "service": home.name}


def test_manager_gives_a_role_links_family_and_makes_a_card(live_server, page):
    seeded = live_server.seed(_organisation)
    sign_in(page, "manager@test.example")
    page.goto("/people")
    assert_accessible(page)
    page.get_by_role("link", name="Ada Lovelace").click()
    page.get_by_role("heading", name="Ada Lovelace").wait_for()
    assert "Large print" in page.content()
    assert_accessible(page)

    # A manager cannot hand out the administrator role: the page says so.
    page.get_by_label("Role", exact=True).select_option("admin")
    page.get_by_role("button", name="Give the role").click()
    page.get_by_text("You cannot grant the role Administrator").wait_for()

    page.get_by_label("Family member or carer").select_option(label="Fiona Lovelace")
    page.get_by_label("Relationship").fill("Daughter")
    page.get_by_role("button", name="Link them").click()
    page.get_by_text("Fiona Lovelace is linked to Ada Lovelace.").wait_for()
    assert_accessible(page)

    page.get_by_label("Username they will sign in with").fill("ada")
    page.get_by_role("button", name="Make the card").click()
    page.get_by_role("heading", name="Welcome to Involve, Ada").wait_for()
    code = page.locator(".invitation-code").inner_text().strip()
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", code)
    assert page.locator(".qr svg title").count() == 1
    assert_accessible(page)
    assert seeded["resident"]


def test_admin_imports_people_after_a_preview(live_server, page, tmp_path):
    live_server.seed(_organisation)
    bad = tmp_path / "bad.csv"
    bad.write_text("full_name,email,role,service\n,a@example.org,service_user,Rose Court\n")
    good = tmp_path / "people.csv"
    good.write_text("full_name,email,role,service\nNorah Quinn,norah@example.org,"
                    "service_user,Rose Court\nPercy Price,,family,Rose Court\n")
    sign_in(page, "admin@test.example")
    page.goto("/people/import")
    assert_accessible(page)
    page.get_by_label("CSV file").set_input_files(str(bad))
    page.get_by_role("button", name="Check the file").click()
    page.get_by_text("The full name is missing.").wait_for()
    assert_accessible(page)

    page.goto("/people/import")
    page.get_by_label("CSV file").set_input_files(str(good))
    page.get_by_role("button", name="Check the file").click()
    page.get_by_role("button", name="Import 2 people").click()
    page.get_by_text("2 people have been imported.").wait_for()
    assert_accessible(page)
    page.goto("/people?q=norah")
    page.get_by_role("link", name="Norah Quinn").wait_for()


def test_admin_chooses_a_service_to_look_at_by_search(live_server, page):
    live_server.seed(_organisation)
    sign_in(page, "admin@test.example")
    page.get_by_role("link", name="Choose a service to look at").click()
    page.get_by_role("heading", name="Choose a service to look at").wait_for()
    assert_accessible(page)
    page.get_by_label("Search by name").fill("rose")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("button", name="Rose Court").click()
    page.get_by_text("You are now looking at Rose Court.").wait_for()
    assert_accessible(page)
