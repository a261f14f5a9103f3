"""Every state change of services, people, roles, family links, needs, photos and imports.

Plain functions: they never commit and never read the request. A move that cannot go ahead
raises :class:`PeopleError` with a message for the person using the page.
"""

from __future__ import annotations

import re
import secrets
from datetime import date, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, delete, func, or_, select, update

from involve import audit
from involve.extensions import db, utcnow
from involve.images import ImageRejected, clean_photo
from involve.kernel import clock
from involve.kernel.errors import DomainError
from involve.people import importing
from involve.people.models import (
    COMMUNICATION_FORMATS,
    CommunicationNeeds,
    FamilyLink,
    ImportStatus,
    Invitation,
    Organisation,
    PeopleImport,
    Person,
    PersonStatus,
    Role,
    RoleGrant,
    Service,
    ServiceKind,
    User,
)
from involve.people.policy import may_grant
from involve.permissions import Actor, load_actor

PeopleError = DomainError  # the kernel's refusal, by this domain's name


# --- services -----------------------------------------------------------------------------

def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:90] or "service"


def _check_service_name(org: Organisation, name: str, exclude: Service | None = None) -> str:
    name = name.strip()
    if not name:
        raise PeopleError("Give the service a name.")
    query = select(Service).where(Service.organisation_id == org.id, Service.name == name)
    other = db.session.scalar(query)
    if other is not None and other is not exclude:
        raise PeopleError(f"There is already a service called {name}.")
    return name


def create_service(org: Organisation, *, name: str, kind: ServiceKind | str, address: str,
                   by: Person) -> Service:
    """Add a service to the organisation, with a unique web-address name (slug)."""
    name = _check_service_name(org, name)
    base = slug = _slug(name)
    n = 2
    while db.session.scalar(select(Service.id).where(Service.slug == slug)) is not None:
        slug, n = f"{base}-{n}", n + 1
    service = Service(organisation_id=org.id, name=name, slug=slug, kind=ServiceKind(kind),
                      address=address.strip())
    db.session.add(service)
    db.session.flush()
    audit.record("service.created", actor=by, obj=service, name=name)
    return service


def edit_service(service: Service, *, name: str, kind: ServiceKind | str, address: str,
                 by: Person) -> None:
    """Change a service's name, kind or address."""
    service.name = _check_service_name(service.organisation, name, exclude=service)
    service.kind = ServiceKind(kind)
    service.address = address.strip()
    audit.record("service.edited", actor=by, obj=service)


def archive_service(service: Service, *, by: Person) -> None:
    """Archive a service: it keeps its history but leaves every picker."""
    if service.is_archived:
        raise PeopleError(f"{service.name} is already archived.")
    service.archived_at = utcnow()
    audit.record("service.archived", actor=by, obj=service)


def restore_service(service: Service, *, by: Person) -> None:
    """Bring an archived service back."""
    if not service.is_archived:
        raise PeopleError(f"{service.name} is not archived.")
    service.archived_at = None
    audit.record("service.restored", actor=by, obj=service)


# --- people -------------------------------------------------------------------------------

def _check_names(full_name: str, preferred_name: str) -> tuple[str, str]:
    full_name, preferred_name = full_name.strip(), preferred_name.strip()
    if not full_name:
        raise PeopleError("Give the person's full name.")
    if len(full_name) > 200 or len(preferred_name) > 100:
        raise PeopleError("That name is too long.")
    return full_name, preferred_name


def add_person(org: Organisation, *, full_name: str, preferred_name: str = "",
               role: Role | str | None, service: Service | None, starts_on: date | None = None,
               actor: Actor) -> Person:
    """Add a person, with their first role when one is given."""
    full_name, preferred_name = _check_names(full_name, preferred_name)
    if role is None and not actor.has_role([Role.admin], None):
        raise PeopleError("Choose the person's role, so that you can find them again.")
    person = Person(organisation_id=org.id, full_name=full_name, preferred_name=preferred_name)
    db.session.add(person)
    db.session.flush()
    audit.record("person.added", actor=actor.person, subject=person, obj=person)
    if role is not None:
        grant_role(person, role=Role(role), service=service, starts_on=starts_on, actor=actor)
    return person


def edit_person(person: Person, *, full_name: str, preferred_name: str, by: Person) -> None:
    """Change a person's names."""
    person.full_name, person.preferred_name = _check_names(full_name, preferred_name)
    audit.record("person.edited", actor=by, subject=person, obj=person)


def set_status(person: Person, status: PersonStatus | str, *, by: Person) -> None:
    """Mark a person active, or as having left (they can no longer sign in)."""
    try:
        status = PersonStatus(status)
    except ValueError:
        raise PeopleError("Choose active or left.") from None
    if person.status == status:
        raise PeopleError(f"{person.full_name} is already marked {status.value}.")
    if person.id == by.id:
        raise PeopleError("You cannot change your own status.")
    person.status = status
    audit.record("person.status_changed", actor=by, subject=person, obj=person,
                 status=status.value)


def grant_role(person: Person, *, role: Role | str, service: Service | None,
               starts_on: date | None = None, actor: Actor) -> RoleGrant:
    """Give a person a role for a service (or the organisation), if the actor may grant it."""
    try:
        role = Role(role)
    except ValueError:
        raise PeopleError("Choose a role from the list.") from None
    service_id = service.id if service else None
    if service is not None and service.is_archived:
        raise PeopleError(f"{service.name} is archived. Choose another service.")
    if service is None and role in importing.SERVICE_ROLES:
        raise PeopleError(f"The role {role.label} needs a service.")
    if not may_grant(actor, role, service_id):
        raise PeopleError(f"You cannot grant the role {role.label} "
                          f"{'there' if service else 'for the whole organisation'}. "
                          "Ask an administrator.")
    starts_on = starts_on or clock.today()
    for existing in person.grants:
        if existing.role == role and existing.service_id == service_id \
                and (existing.ends_on is None or existing.ends_on >= starts_on):
            raise PeopleError(f"{person.full_name} already has that role there.")
    grant = RoleGrant(person_id=person.id, role=role, service_id=service_id,
                      starts_on=starts_on, granted_by_id=actor.person_id)
    db.session.add(grant)
    person.grants.append(grant)
    db.session.flush()
    audit.record("role.granted", actor=actor.person, subject=person, obj=grant,
                 service_id=service_id, role=role.value, starts_on=starts_on.isoformat())
    return grant


def end_role(grant: RoleGrant, *, ends_on: date | None = None, actor: Actor) -> None:
    """End a role on a day (today by default); the grant is kept as history."""
    if not may_grant(actor, grant.role, grant.service_id):
        raise PeopleError(f"You cannot end the role {grant.role.label}. Ask an administrator.")
    ends_on = ends_on or clock.today()
    if grant.ends_on is not None and grant.ends_on <= ends_on:
        raise PeopleError("That role has already ended.")
    if ends_on < grant.starts_on:
        raise PeopleError("A role cannot end before it starts.")
    grant.ends_on = ends_on
    audit.record("role.ended", actor=actor.person, subject=grant.person_id, obj=grant,
                 service_id=grant.service_id, role=grant.role.value, ends_on=ends_on.isoformat())


def link_family(service_user: Person, family: Person, *, relationship: str,
                by: Person) -> FamilyLink:
    """Link a family member or carer to the service user they support."""
    relationship = relationship.strip()
    if not relationship:
        raise PeopleError("Say how they are related, for example Daughter or Friend.")
    if len(relationship) > 60:
        raise PeopleError("Keep the relationship under 60 characters.")
    if family.id == service_user.id:
        raise PeopleError("A person cannot be linked to themselves.")
    exists = db.session.scalar(select(FamilyLink).where(
        FamilyLink.family_person_id == family.id, FamilyLink.service_user_id == service_user.id))
    if exists is not None:
        raise PeopleError(f"{family.full_name} is already linked to {service_user.full_name}.")
    link = FamilyLink(family_person_id=family.id, service_user_id=service_user.id,
                      relationship_label=relationship)
    db.session.add(link)
    db.session.flush()
    audit.record("family.linked", actor=by, subject=service_user, obj=link,
                 family_person_id=family.id)
    return link


def unlink_family(link: FamilyLink, *, by: Person) -> None:
    """Remove a family link (the link holds no history worth keeping)."""
    audit.record("family.unlinked", actor=by, subject=link.service_user_id,
                 family_person_id=link.family_person_id)
    db.session.delete(link)


def save_needs(person: Person, *, formats: list[str], helper: Person | None, notes: str,
               by: Person) -> CommunicationNeeds:
    """Record how a person needs information (Accessible Information Standard)."""
    unknown = [f for f in formats if f not in COMMUNICATION_FORMATS]
    if unknown:
        raise PeopleError("Choose communication needs from the list.")
    if "help_from_person" in formats and helper is None:
        raise PeopleError("Name the person who helps, or untick \u201cHelp from a named "
                          "person\u201d.")
    if helper is not None and helper.id == person.id:
        raise PeopleError("A person cannot be their own helper.")
    if len(notes) > 2000:
        raise PeopleError("Keep the notes under 2,000 characters.")
    needs = person.communication_needs
    if needs is None:
        needs = CommunicationNeeds(person=person)
        db.session.add(needs)
    needs.formats = [f for f in COMMUNICATION_FORMATS if f in formats]
    needs.helper_id = helper.id if helper else None
    needs.notes = notes.strip()
    # The needs themselves are special-category data: the audit says only that they changed.
    audit.record("needs.changed", actor=by, subject=person, obj=person)
    return needs


def save_photo(person: Person, data: bytes, *, consent: bool, consent_note: str,
               by: Person) -> None:
    """Keep a cleaned copy of a person's photo, with the consent recorded."""
    if not consent:
        raise PeopleError("Confirm that the person (or someone who may decide for them) "
                          "agreed to the photo.")
    try:
        person.photo = clean_photo(data, max_pixels=current_app.config["PHOTO_MAX_PIXELS"])
    except ImageRejected as error:
        raise PeopleError(str(error)) from None
    person.has_photo = True
    person.photo_consent_at = utcnow()
    person.photo_consent_note = consent_note.strip()[:300]
    audit.record("photo.uploaded", actor=by, subject=person, obj=person)


def remove_photo(person: Person, *, by: Person) -> None:
    """Delete a person's photo (for example when they withdraw consent)."""
    if not person.has_photo:
        raise PeopleError("There is no photo to remove.")
    person.photo, person.has_photo = None, False
    person.photo_consent_at, person.photo_consent_note = None, ""
    audit.record("photo.removed", actor=by, subject=person, obj=person)


def grant_above(person: Person, actor: Actor) -> RoleGrant | None:
    """A role the person holds that the actor could not grant, if any.

    Nobody may act on the account of someone holding a role above their own: a manager can
    never invite or reset a board member, an administrator or another manager.
    """
    for grant in person.active_grants():
        if not may_grant(actor, grant.role, grant.service_id):
            return grant
    return None


def _check_may_act_on_account(person: Person, actor: Actor) -> None:
    if person.status != PersonStatus.active:
        raise PeopleError(f"{person.full_name} is marked as having left.")
    above = grant_above(person, actor)
    if above is not None:
        raise PeopleError(f"{person.full_name} is {above.role.label} ({above.scope_label}). "
                          "Only someone who can give that role can change their account. "
                          "Ask an administrator.")


def invite_person(person: Person, *, email: str | None, username: str | None,
                  actor: Actor) -> tuple[Invitation, str]:
    """Create an invitation for a person (see :func:`involve.auth.services.invite`).

    Only for an account that has never had a password, and only by someone who could grant
    every role the person holds.
    """
    from involve.auth.services import AuthError, invite

    _check_may_act_on_account(person, actor)
    try:
        return invite(person, email=email, username=username, by=actor.person)
    except AuthError as error:
        raise PeopleError(str(error)) from None


def _account_in_use(person: Person, actor: Actor) -> User:
    _check_may_act_on_account(person, actor)
    user = person.user
    if user is None or not user.has_had_password:
        raise PeopleError(f"{person.full_name} has not set up an account yet. "
                          "Send an invitation instead.")
    return user


def reset_by_email(person: Person, *, actor: Actor) -> User:
    """Start a password reset that goes to the person's own email address (audited).

    The caller emails the account's address a reset link; nobody else sees it.
    """
    user = _account_in_use(person, actor)
    if not user.email:
        raise PeopleError(f"{person.full_name} has no email address. "
                          "Print a password reset card instead.")
    audit.record("password.reset_sent", actor=actor.person, subject=person, obj=user)
    return user


def reset_card(person: Person, *, actor: Actor) -> tuple[Invitation, str]:
    """A printed password reset card for someone without email, handed over in person."""
    from involve.auth.services import AuthError, issue_reset_card

    user = _account_in_use(person, actor)
    try:
        return issue_reset_card(user, by=actor.person)
    except AuthError as error:
        raise PeopleError(str(error)) from None


# --- import ---------------------------------------------------------------------------------

def upload_import(org: Organisation, *, filename: str, content: bytes,
                  by: Person) -> PeopleImport:
    """Keep an uploaded file for its preview; nothing is imported yet."""
    if not content:
        raise PeopleError("The file is empty. Choose a CSV file of people.")
    upload = PeopleImport(token=secrets.token_urlsafe(24), organisation_id=org.id,
                          created_by_id=by.id, filename=filename[:200], content=content)
    db.session.add(upload)
    db.session.flush()
    return upload


def check_import(upload: PeopleImport) -> importing.ImportPreview:
    """The preview of a kept file, checked against the database as it is now.

    Checked with the uploader's roles today: an admin of some services imports only into those.
    """
    allowed = load_actor(upload.created_by).service_ids([Role.admin])
    return importing.preview(upload.content, upload.organisation_id, allowed)


# Larger files are imported by a background task that reports its progress.
BACKGROUND_IMPORT_ROWS = 500
# Rows written per commit by the background import: each commit holds SQLite's one write lock
# for a fraction of a second, so web requests never wait past their busy timeout.
IMPORT_BATCH_ROWS = 200
# A running import writes a heartbeat with every batch, well under a second apart: one silent
# this long was left by a worker that stopped, and may be resumed.
IMPORT_STALE_AFTER = timedelta(seconds=90)
# After this many runs that stopped part-way, the import is failed rather than tried again.
IMPORT_MAX_ATTEMPTS = 3


class ImportTakenOver(Exception):
    """This run of a background import no longer owns it: it was resumed elsewhere, or failed."""


def confirm_import(upload: PeopleImport, *, by: Person) -> bool:
    """Import a previewed file at once, or queue it when it is large.

    Refused if any row has a problem now (the database may have changed since the preview).
    Returns True when the file was queued for the background task.
    """
    if upload.status != ImportStatus.previewed:
        raise PeopleError("This file has already been imported.")
    result = check_import(upload)
    if not result.ok:
        raise PeopleError("The file still has problems. Fix them and upload it again.")
    upload.total_rows = len(result.rows)
    if len(result.rows) > BACKGROUND_IMPORT_ROWS:
        upload.status = ImportStatus.queued
        upload.heartbeat_at = utcnow()
        return True
    import_rows(upload, result.rows, by=by)
    return False


def _new_person(upload: PeopleImport, row: importing.ImportRow, *, by: Person,
                import_id: int | None) -> Person:
    values = row.values
    person = Person(organisation_id=upload.organisation_id, full_name=values["full_name"],
                    preferred_name=values["preferred_name"], import_id=import_id)
    if row.role is not None:
        person.grants.append(RoleGrant(role=row.role, service_id=row.service_id,
                                       starts_on=row.starts_on or clock.today(),
                                       granted_by_id=by.id, import_id=import_id))
    if values["email"] or values["username"]:
        person.user = User(email=values["email"] or None, username=values["username"] or None,
                           import_id=import_id)
    if row.needs:
        person.communication_needs = CommunicationNeeds(formats=row.needs, import_id=import_id)
    return person


def import_rows(upload: PeopleImport, rows: list[importing.ImportRow], *,
                by: Person) -> list[Person]:
    """Create the people of a small confirmed file at once (the caller's one transaction
    commits them)."""
    people = [_new_person(upload, row, by=by, import_id=None) for row in rows]
    db.session.add_all(people)
    db.session.flush()
    upload.rows_done = len(people)
    upload.status = ImportStatus.done
    upload.content = b""  # the people are in the database now; keep no second copy
    upload.finished_at = utcnow()
    audit.record("people.imported", actor=by, obj=upload, rows=len(people),
                 filename=upload.filename)
    return people


def import_stalled(upload: PeopleImport) -> bool:
    """True for a running import whose heartbeat stopped: its worker stopped part-way."""
    return (upload.status == ImportStatus.running
            and (upload.heartbeat_at is None
                 or upload.heartbeat_at < utcnow() - IMPORT_STALE_AFTER))


def claim_import(import_id: int) -> PeopleImport | None:
    """Take a queued import, or a stalled one to resume, for a new run of the background task.

    One conditional UPDATE, so two workers (or a retry) never both run one import. Returns
    None when there is nothing to run: finished, failed, or running with a live heartbeat.
    """
    now = utcnow()
    claimed = db.session.execute(
        update(PeopleImport)
        .where(PeopleImport.id == import_id, PeopleImport.attempt < IMPORT_MAX_ATTEMPTS,
               or_(PeopleImport.status == ImportStatus.queued,
                   and_(PeopleImport.status == ImportStatus.running,
                        or_(PeopleImport.heartbeat_at.is_(None),
                            PeopleImport.heartbeat_at < now - IMPORT_STALE_AFTER))))
        .values(status=ImportStatus.running, attempt=PeopleImport.attempt + 1,
                heartbeat_at=now)
        .execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        return None
    return db.session.get(PeopleImport, import_id, populate_existing=True)


def _while_owned(upload: PeopleImport, attempt: int, **values: Any) -> None:
    """Update the import, with a heartbeat, only while run ``attempt`` still owns it."""
    owned = db.session.execute(
        update(PeopleImport)
        .where(PeopleImport.id == upload.id, PeopleImport.attempt == attempt,
               PeopleImport.status == ImportStatus.running)
        .values(heartbeat_at=utcnow(), **values)).rowcount
    if owned != 1:
        raise ImportTakenOver


def write_import_batch(upload: PeopleImport, rows: list[importing.ImportRow], *,
                       attempt: int) -> int:
    """Write the next batch of a background import's rows, hidden until it finishes.

    Carries on from ``upload.rows_done``, which commits with each batch, so a resumed import
    writes every row once. Returns how many rows it wrote (0 when none are left). Raises
    :class:`ImportTakenOver` when run ``attempt`` no longer owns the import; the caller rolls
    back the batch.
    """
    start = upload.rows_done
    batch = rows[start:start + IMPORT_BATCH_ROWS]
    if not batch:
        return 0
    db.session.add_all(_new_person(upload, row, by=upload.created_by, import_id=upload.id)
                       for row in batch)
    db.session.flush()
    _while_owned(upload, attempt, rows_done=start + len(batch))
    return len(batch)


def finish_import(upload: PeopleImport, *, attempt: int) -> None:
    """Make every row of a background import live at once, and forget its file.

    A handful of UPDATE statements on indexed columns: the one short step that turns the
    batches into people everyone sees.
    """
    _while_owned(upload, attempt, status=ImportStatus.done, finished_at=utcnow(), content=b"")
    for model in (Person, User, RoleGrant, CommunicationNeeds):
        db.session.execute(update(model).where(model.import_id == upload.id)
                           .values(import_id=None)
                           .execution_options(synchronize_session=False))
    audit.record("people.imported", actor=upload.created_by_id, obj=upload,
                 rows=upload.rows_done, filename=upload.filename)


def discard_import_rows(import_id: int) -> None:
    """Delete the rows an unfinished import wrote; nobody ever saw them."""
    for model in (CommunicationNeeds, RoleGrant, User, Person):
        db.session.execute(delete(model).where(model.import_id == import_id)
                           .execution_options(synchronize_session=False))


def fail_import(upload: PeopleImport, message: str) -> None:
    """Fail an import plainly: delete the rows it wrote and its file (personal data)."""
    upload.status = ImportStatus.failed
    upload.error = message
    upload.finished_at = utcnow()
    upload.content = b""
    upload.rows_done = 0
    discard_import_rows(upload.id)


STALE_IMPORT_MESSAGE = ("The import stopped part-way, because the background worker was "
                        "restarted, and nobody was imported. Upload the file again to try "
                        "once more.")
IMPORT_CLASH_MESSAGE = ("Someone with an email or username in the file was added while it was "
                        "being imported, so nobody was imported. Upload the file again to see "
                        "which rows.")
STOPPED_TOO_OFTEN_MESSAGE = (f"The import stopped part-way {IMPORT_MAX_ATTEMPTS} times, "
                             "because the background worker was restarted, and nobody was "
                             "imported. Upload the file again to try once more.")


def fail_stale_imports(older_than: timedelta = timedelta(hours=1)) -> int:
    """Fail imports left queued or running, silent for an hour, and delete their rows and files.

    A stalled import is resumed within minutes by its watch task (see people/tasks.py); this
    is the backstop for one whose watch was lost too, or that no worker ever started.
    """
    cutoff = utcnow() - older_than
    stale = db.session.scalars(select(PeopleImport).where(
        func.coalesce(PeopleImport.heartbeat_at, PeopleImport.created_at) < cutoff,
        PeopleImport.status.in_([ImportStatus.queued, ImportStatus.running]))).all()
    for upload in stale:
        fail_import(upload, STALE_IMPORT_MESSAGE)
    return len(stale)


def forget_old_uploads(older_than: timedelta = timedelta(days=2)) -> int:
    """Delete uploads never confirmed, and the file of failed ones, after a while.

    The files hold personal data; an upload nobody confirmed has no history worth keeping.
    """
    cutoff = utcnow() - older_than
    stale = db.session.scalars(select(PeopleImport).where(
        PeopleImport.created_at < cutoff,
        PeopleImport.status.in_([ImportStatus.previewed, ImportStatus.failed]))).all()
    for upload in stale:
        if upload.status == ImportStatus.previewed:
            db.session.delete(upload)
        else:
            upload.content = b""
    return len(stale)


def record_export(*, by: Person, rows: int, service_ids: set[int] | None) -> None:
    """Note in the audit log that someone downloaded people's details."""
    audit.record("people.exported", actor=by, rows=rows,
                 services=sorted(service_ids) if service_ids is not None else "all")


# --- organisations ----------------------------------------------------------------------------

def create_organisation(name: str, *, admin_email: str, admin_name: str = "Administrator",
                        service_name: str = "") -> tuple[Organisation, Invitation, str]:
    """A new organisation (with one care home when ``service_name`` is given) and its first
    administrator, invited by email. Returns the organisation, the invitation and its code.

    The administrator has no password until they follow the invitation; the invitation is
    recorded as their own, since nobody in the organisation made it.
    """
    from involve.mail import has_line_break

    name, admin_name = name.strip(), admin_name.strip()
    if not name or len(name) > 200 or has_line_break(name):
        raise PeopleError("Give the organisation a name of one line, under 200 characters.")
    if not admin_name or has_line_break(admin_name):
        raise PeopleError("Give the administrator's name on one line.")
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", admin_email.strip()):
        raise PeopleError(f"{admin_email!r} is not an email address.")
    if db.session.scalar(select(Organisation.id).where(Organisation.name == name)):
        raise PeopleError(f"There is already an organisation called {name}.")
    org = Organisation(name=name)
    db.session.add(org)
    db.session.flush()
    admin = Person(organisation_id=org.id, full_name=admin_name)
    db.session.add(admin)
    db.session.add(RoleGrant(person=admin, role=Role.admin, service_id=None,
                             starts_on=clock.today()))
    db.session.flush()
    audit.record("organisation.created", subject=admin, obj=org, name=name)
    if service_name.strip():
        create_service(org, name=service_name, kind=ServiceKind.care_home, address="", by=admin)
    invitation, code = invite_person(admin, email=admin_email, username=None,
                                     actor=load_actor(admin))
    return org, invitation, code
