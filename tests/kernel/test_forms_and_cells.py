"""The form base, the empty form, the checkbox list and spreadsheet cells."""

from werkzeug.datastructures import MultiDict
from wtforms import SelectField

from involve.kernel.forms import EmptyForm, MultiCheckboxField, PlainForm
from involve.kernel.spreadsheet import safe_cell


class ChoiceForm(PlainForm):
    colour = SelectField("Colour", choices=[("red", "Red"), ("blue", "Blue")])
    days = MultiCheckboxField("Days", choices=[("mon", "Monday"), ("tue", "Tuesday")])


def test_wtforms_messages_come_out_in_plain_words(app):
    with app.test_request_context("/", method="POST"):
        form = ChoiceForm(formdata=MultiDict({"colour": "green", "days": ["sun"]}))
        assert not form.validate()
        assert form.errors["colour"] == ["Choose one of the options in the list."]
        assert form.errors["days"] == ["Choose one of the options in the list."]
        assert "Not a valid choice" not in str(form.errors)


def test_the_checkbox_list_draws_tick_boxes(app):
    with app.test_request_context("/"):
        html = str(ChoiceForm().days())
    assert html.count('type="checkbox"') == 2


def test_the_empty_form_has_only_its_token(app):
    with app.test_request_context("/"):
        assert {field.name for field in EmptyForm()} <= {"csrf_token"}  # none of its own


def test_cells_never_run_as_formulas():
    assert safe_cell("=SUM(A1:A3)") == "'=SUM(A1:A3)"
    for start in "+-@\t\r":
        assert safe_cell(start + "1") == "'" + start + "1"
    assert safe_cell("Ada") == "Ada"
    assert safe_cell(None) == "" and safe_cell(3) == "3"
