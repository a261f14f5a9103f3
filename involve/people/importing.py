"""Reading a CSV file of people, finding every row's problems, and writing people out as CSV.

Pure logic apart from the look-ups of existing services and sign-ins; nothing here writes.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select

from involve.extensions import db
from involve.kernel.spreadsheet import safe_cell
from involve.mail import has_line_break
from involve.people.models import COMMUNICATION_FORMATS, Role, Service, User

COLUMNS = ["full_name", "preferred_name", "email", "username", "role", "service", "starts_on",
           "communication_needs"]
REQUIRED_COLUMNS = {"full_name"}
# Roles that belong to one service; the others may be held for the whole organisation.
SERVICE_ROLES = {Role.service_user, Role.family, Role.staff, Role.manager}
MAX_ROWS = 20_000
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,59}$")


@dataclass
class ImportRow:
    """One row of the file: its line number, its cleaned values and its problems."""

    line: int
    values: dict[str, str]
    problems: list[str] = field(default_factory=list)
    role: Role | None = None
    service_id: int | None = None
    service_name: str = ""
    starts_on: date | None = None
    needs: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class ImportPreview:
    """What an import would do: problems with the whole file, and every row."""

    file_problems: list[str] = field(default_factory=list)
    rows: list[ImportRow] = field(default_factory=list)

    @property
    def problem_rows(self) -> list[ImportRow]:
        return [row for row in self.rows if row.problems]

    @property
    def ok(self) -> bool:
        return not self.file_problems and not self.problem_rows and bool(self.rows)


def decode(content: bytes) -> str:
    """The file's text; UTF-8 with or without a byte-order mark. Raises ValueError otherwise."""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = content[:error.start].count(b"\n") + 1
        raise ValueError(
            f"The file is not saved as UTF-8 text (the first problem is on line {line}). "
            "In Excel, use Save As and choose \u201cCSV UTF-8 (Comma delimited)\u201d, "
            "then upload it again.") from None


def _lookup_needs() -> dict[str, str]:
    names = {key: key for key in COMMUNICATION_FORMATS}
    names.update({label.lower(): key for key, label in COMMUNICATION_FORMATS.items()})
    return names


def _lookup_roles() -> dict[str, Role]:
    names: dict[str, Role] = {}
    for role in Role:
        names[role.value] = role
        names[role.label.lower()] = role
        names[role.value.replace("_", " ")] = role
    return names


def preview(content: bytes, organisation_id: int,
            allowed_service_ids: set[int] | None = None) -> ImportPreview:
    """Read the file and find every problem, without writing anything.

    ``allowed_service_ids`` are the services the importing admin may add people to (``None``:
    all of them, and roles for the whole organisation too).
    """
    result = ImportPreview()
    try:
        text = decode(content)
    except ValueError as error:
        result.file_problems.append(str(error))
        return result
    if "\x00" in text:
        result.file_problems.append(
            "The file is not a CSV text file. Save it as CSV and try again.")
        return result
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        result.file_problems.append("The file is empty. It needs a first row of column names.")
        return result
    names = [h.strip().lower() for h in header]
    unknown = [h for h in names if h and h not in COLUMNS]
    if unknown:
        result.file_problems.append(
            "Unknown columns: " + ", ".join(unknown) + ". The columns we know are: "
            + ", ".join(COLUMNS) + ".")
    missing = sorted(REQUIRED_COLUMNS - set(names))
    if missing:
        result.file_problems.append("The file needs a column called " + ", ".join(missing) + ".")
    repeated = sorted({h for h in names if h and names.count(h) > 1})
    if repeated:
        result.file_problems.append("These columns appear twice: " + ", ".join(repeated) + ".")

    services = {}
    for service in db.session.scalars(select(Service).where(
            Service.organisation_id == organisation_id)):
        services[service.name.strip().lower()] = service
        services[service.slug.lower()] = service
    roles, needs_names = _lookup_roles(), _lookup_needs()
    seen_emails: dict[str, int] = {}
    seen_usernames: dict[str, int] = {}
    try:
        for raw in reader:
            if not any(cell.strip() for cell in raw):
                continue
            if len(result.rows) >= MAX_ROWS:
                result.file_problems.append(
                    f"The file has more than {MAX_ROWS:,} people. Split it into smaller files.")
                break
            row = ImportRow(line=reader.line_num, values={})
            if len(raw) > len(names):
                row.problems.append("This row has more cells than there are column names.")
            for name, cell in zip(names, raw, strict=False):
                if name in COLUMNS:
                    row.values[name] = cell.strip()
            for name in COLUMNS:
                row.values.setdefault(name, "")
            _check_row(row, services, roles, needs_names, seen_emails, seen_usernames)
            _check_allowed(row, allowed_service_ids)
            result.rows.append(row)
    except csv.Error as error:
        result.file_problems.append(f"The file could not be read as CSV near line "
                                    f"{reader.line_num}: {error}.")
    if not result.rows and not result.file_problems:
        result.file_problems.append("The file has column names but no people.")
    _check_existing(result.rows, seen_emails, seen_usernames)
    return result


def _check_row(row: ImportRow, services: dict[str, Service], roles: dict[str, Role],
               needs_names: dict[str, str], seen_emails: dict[str, int],
               seen_usernames: dict[str, int]) -> None:
    values, problems = row.values, row.problems
    if not values["full_name"]:
        problems.append("The full name is missing.")
    elif len(values["full_name"]) > 200:
        problems.append("The full name is longer than 200 characters.")
    if len(values["preferred_name"]) > 100:
        problems.append("The preferred name is longer than 100 characters.")
    if has_line_break(values["full_name"]) or has_line_break(values["preferred_name"]):
        problems.append("A name runs over more than one line. Put each name on one line.")
    email = values["email"].lower()
    values["email"] = email
    if email:
        if not EMAIL.match(email) or len(email) > 254:
            problems.append(f"\u201c{values['email']}\u201d is not an email address.")
        elif email in seen_emails:
            problems.append(f"The email {email} is also on line {seen_emails[email]} of the file.")
        else:
            seen_emails[email] = row.line
    username = values["username"].lower()
    values["username"] = username
    if username:
        if not USERNAME.match(username):
            problems.append("A username uses 2 to 60 letters, numbers, dots, dashes or "
                            "underscores, starting with a letter or number.")
        elif username in seen_usernames:
            problems.append(f"The username {username} is also on line "
                            f"{seen_usernames[username]} of the file.")
        else:
            seen_usernames[username] = row.line
    if values["role"]:
        row.role = roles.get(values["role"].lower())
        if row.role is None:
            problems.append(f"The role \u201c{values['role']}\u201d is not one we know. Use one "
                            "of: " + ", ".join(r.value for r in Role) + ".")
    if values["service"]:
        service = services.get(values["service"].lower())
        if service is None:
            problems.append(f"There is no service called \u201c{values['service']}\u201d.")
        elif service.is_archived:
            problems.append(f"The service {service.name} is archived.")
        else:
            row.service_id, row.service_name = service.id, service.name
        if not values["role"]:
            problems.append("A service is given but no role. Add the person's role there.")
    elif row.role in SERVICE_ROLES:
        problems.append(f"The role {row.role.label} needs a service.")
    if values["starts_on"]:
        try:
            row.starts_on = date.fromisoformat(values["starts_on"])
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", values["starts_on"]):
                raise ValueError
        except ValueError:
            row.starts_on = None
            problems.append(f"The start date \u201c{values['starts_on']}\u201d is not a date "
                            "written as YYYY-MM-DD, for example 2026-03-01.")
    for item in (part.strip() for part in values["communication_needs"].split(";")):
        if not item:
            continue
        key = needs_names.get(item.lower())
        if key is None:
            problems.append(f"The communication need \u201c{item}\u201d is not one we know. Use "
                            "one of: " + ", ".join(COMMUNICATION_FORMATS) + ".")
        elif key not in row.needs:
            row.needs.append(key)


def _check_allowed(row: ImportRow, allowed: set[int] | None) -> None:
    if allowed is None or row.role is None:
        return
    if row.service_id is None and row.values["service"] == "":
        row.problems.append("Only an administrator for the whole organisation can give a role "
                            "for the whole organisation.")
    elif row.service_id is not None and row.service_id not in allowed:
        row.problems.append(f"You cannot add people to {row.service_name}.")


def _check_existing(rows: list[ImportRow], emails: dict[str, int],
                    usernames: dict[str, int]) -> None:
    # One query per kind, in chunks, whatever the size of the file.
    def taken(column, values: list[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(values), 500):
            chunk = values[start:start + 500]
            found.update(v.lower() for v in db.session.scalars(
                select(column).where(func.lower(column).in_(chunk))) if v)
        return found

    used_emails = taken(User.email, list(emails))
    used_usernames = taken(User.username, list(usernames))
    for row in rows:
        if row.values["email"] in used_emails and emails.get(row.values["email"]) == row.line:
            row.problems.append(f"Someone already has the email {row.values['email']}.")
        if row.values["username"] in used_usernames \
                and usernames.get(row.values["username"]) == row.line:
            row.problems.append(f"Someone already has the username {row.values['username']}.")


# --- export -------------------------------------------------------------------------------

EXPORT_COLUMNS = [*COLUMNS, "status"]
def write_csv(rows: Iterable[list[object]]) -> str:
    """CSV text (UTF-8 with a byte-order mark, so Excel reads it) of the header and rows."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return out.getvalue()
