"""No input gives a server error, and input that is refused changes nothing.

A property-based test (hypothesis) opens every page of the permission matrix as a role that
may use it, finds every form on it, and posts generated values to it: huge ids, NUL bytes,
"inf" and "nan", very long text, odd Unicode and missing fields, mixed with the form's own
values so that the rest of the form is valid. Every address is also asked with ids no
database column can hold. Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import importlib.util
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from involve.bad_input import MAX_ID
from involve.extensions import db
from tests.conftest import login
from tests.permission_matrix import AMBASSADOR, ANONYMOUS, Case

# The most able role first: their pages show the most forms.
PREFERENCE = ["admin", "manager", "board", "staff", AMBASSADOR, "service_user", "family",
              "partner", ANONYMOUS]
EXAMPLES_PER_FORM = 6


def _cases() -> list[Case]:
    cases = []
    for path in sorted(Path(__file__).parent.glob("*/test_matrix.py")):
        spec = importlib.util.spec_from_file_location(f"fuzz_matrix_{path.parent.name}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        cases.extend(module.CASES)
    return cases


CASES = _cases()
# Pages someone in the test world may open (the guardian's page needs a guardian named, which
# tests/feedback/test_guardian.py sets up and fuzzes no form on).
PAGES = [case for case in CASES if case.method == "GET" and case.allow]


class _Forms(HTMLParser):
    """The POST forms of a page: action and fields (name, kind, value, options)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: dict | None = None
        self._textarea: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("method") or "get").lower() == "post":
            self._form = {"action": a.get("action") or "", "fields": {}}
            self.forms.append(self._form)
        if self._form is None or not a.get("name"):
            return
        fields = self._form["fields"]
        name = a["name"]
        if tag == "input":
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "reset"):
                return
            field = fields.setdefault(name, {"kind": kind, "values": []})
            if kind in ("radio", "checkbox"):
                field["values"].append(a.get("value") or "y")
            else:
                field["values"].append(a.get("value") or "")
        elif tag == "select":
            self._select = fields.setdefault(name, {"kind": "select", "values": []})
        elif tag == "textarea":
            self._textarea = fields.setdefault(name, {"kind": "textarea", "values": [""]})

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_data(self, data):
        if self._textarea is not None and data.strip():
            self._textarea["values"] = [data]

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


_OPTION = re.compile(r'<option[^>]*value="([^"]*)"', re.I)


def _page_forms(html: str) -> list[dict]:
    parser = _Forms()
    parser.feed(html)
    # Options: every <select name="x">...</select> block's values.
    for block in re.finditer(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        for form in parser.forms:
            if block.group(1) in form["fields"]:
                form["fields"][block.group(1)]["values"] = _OPTION.findall(block.group(2))
    return parser.forms


HUGE = ["9223372036854775808", "18446744073709551616", str(MAX_ID + 1), "-9223372036854775809",
        "99999999999999999999999999"]
BAD_TEXT = st.one_of(
    st.sampled_from(HUGE + ["inf", "-inf", "nan", "NaN", "1e309", "-1", "0", "", " ", "1.5"]),
    st.text(max_size=30).map(lambda s: s + "\x00"),
    st.integers(min_value=201, max_value=5000).map(lambda n: "x" * n),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40),
    st.sampled_from(["\u202eevil", "\ufeff", "e\u0301", "\U0001F600" * 60, "\u0000",
                     "2026-02-30", "99999-01-01", "<script>", "'; DROP TABLE person;--"]),
)


def _form_values(fields: dict) -> st.SearchStrategy:
    """Each field: left out, its own value (so the rest is valid), or a bad one."""
    parts = {}
    for name, field in fields.items():
        own = [v for v in field["values"] if v is not None] or [""]
        parts[name] = st.one_of(st.none(), st.sampled_from(own), BAD_TEXT)
    return st.fixed_dictionaries(parts)


def _row_counts() -> dict[str, int]:
    tables = [t.name for t in db.metadata.sorted_tables if t.name != "audit_event"]
    sql = " UNION ALL ".join(f"SELECT '{t}', COUNT(*) FROM \"{t}\"" for t in tables)
    db.session.rollback()
    return dict(db.session.execute(text(sql)).all())


def _refused(client, response) -> bool:
    """Whether the answer says no: an error status, a form error, or an error message."""
    if response.status_code >= 400:
        return True
    if response.status_code in (301, 302, 303):
        with client.session_transaction() as session:
            flashes = session.pop("_flashes", [])
        return any(category == "error" for category, _message in flashes)
    body = response.get_data(as_text=True)
    return 'class="error-message"' in body or "flash-error" in body


def _who(case: Case) -> str:
    return next(role for role in PREFERENCE if role in case.allow)


def _client_as(app, world, role):
    client = app.test_client()
    person = None if role == ANONYMOUS else (
        world.ambassador if role == AMBASSADOR else world.people[role])
    if person is not None:
        login(client, person)
    return client


def _huge_id_urls(url: str) -> list[str]:
    path = urlsplit(url).path
    spots = list(re.finditer(r"(?<=/)\d+(?=/|$)", path))
    urls = []
    for spot in spots:
        for big in (str(MAX_ID + 1), "9223372036854775808", "1" + "0" * 30):
            urls.append(path[:spot.start()] + big + path[spot.end():])
    return urls


def _fuzz_form(client, role: str, action: str, fields: dict) -> None:
    """Post generated values to one form; no server error, and a refusal changes nothing."""

    @settings(max_examples=EXAMPLES_PER_FORM, deadline=None, database=None,
              suppress_health_check=list(HealthCheck), derandomize=True)
    @given(values=_form_values(fields))
    def post(values):
        data = {k: v for k, v in values.items() if v is not None}
        before = _row_counts()
        response = client.post(action, data=data)
        assert response.status_code != 500, (
            f"POST {action} as {role} with {data!r}: server error")
        if _refused(client, response):
            assert _row_counts() == before, (
                f"POST {action} as {role} with {data!r} was refused "
                f"({response.status_code}) but changed the database")

    post()


@pytest.mark.parametrize("case", PAGES, ids=lambda c: c.id or c.endpoint)
def test_no_form_or_address_gives_a_server_error(app, world, case):
    context = case.setup(world) if case.setup else None
    db.session.commit()
    url = case.url(world, context)
    role = _who(case)
    client = _client_as(app, world, role)

    for huge in _huge_id_urls(url):
        status = client.get(huge).status_code
        assert status != 500, f"GET {huge} as {role}: 500"
        assert status in (302, 400, 403, 404), f"GET {huge} as {role}: {status}"

    page = client.get(url)
    assert page.status_code < 500
    if page.status_code != 200 or "html" not in page.content_type:
        return
    forms = _page_forms(page.get_data(as_text=True))
    for form in forms:
        action = urljoin(url, form["action"] or url)
        fields = {k: v for k, v in form["fields"].items() if k != "csrf_token"
                  and v["kind"] != "file"}

        _fuzz_form(client, role, action, fields)


# --- the central guards, each on its own --------------------------------------------------

def test_huge_ids_in_addresses_are_not_found(client, world):
    login(client, world.people["admin"])
    for big in (MAX_ID + 1, 2**63, 10**30):
        assert client.get(f"/people/{big}").status_code == 404
    assert client.get(f"/people/{world.people['service_user'].id}").status_code == 200


def test_a_nul_byte_is_refused_plainly_and_saves_nothing(client, world):
    before = _row_counts()
    response = client.post("/sign-in", data={"sign_in": "ada\x00", "password": "x"})
    assert response.status_code == 400
    assert "hidden character" in response.get_data(as_text=True)
    response = client.post(f"/feedback/give/{world.home.slug}",
                           data={"kind": "compliment", "text": "Lovely\x00"})
    assert response.status_code == 400
    assert _row_counts() == before


def test_text_longer_than_its_column_is_refused_on_every_database(client, world):
    from involve.bad_input import TooLong
    from involve.people.models import Person

    db.session.add(Person(organisation_id=world.org.id, full_name="x" * 201))
    with pytest.raises(TooLong):
        db.session.flush()
    db.session.rollback()
    # Through a form: a plain page, not a server error, and nothing saved.
    login(client, world.people["board"])
    before = _row_counts()
    response = client.post("/feedback/briefings/new", data={
        "service_id": world.home.id, "title": "t" * 500, "body": "Some news"})
    assert response.status_code in (200, 400, 404)
    assert _row_counts() == before


def test_inf_and_nan_are_not_amounts(app):
    from werkzeug.datastructures import MultiDict

    from involve.recruitment.forms import RecognitionForm

    with app.test_request_context("/", method="POST"):
        for word in ("inf", "nan", "-inf"):
            form = RecognitionForm(formdata=MultiDict({
                "took_part_on": "2026-01-05", "hours": "2", "reward": "voucher",
                "amount": word}))
            form.service_id.choices = form.vacancy_id.choices = [(0, "-")]
            assert not form.validate()
            assert "ordinary number" in " ".join(form.amount.errors)
