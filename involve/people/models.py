"""Organisation, services, people, accounts, role grants, family links and communication needs."""

from __future__ import annotations

import enum
from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    event,
    func,
    select,
)
from sqlalchemy.orm import (
    Mapped,
    ORMExecuteState,
    Session,
    deferred,
    mapped_column,
    relationship,
    with_loader_criteria,
)
from werkzeug.security import check_password_hash, generate_password_hash

from involve.extensions import UTCDateTime, db, db_enum, utcnow
from involve.kernel import clock


class Role(enum.StrEnum):
    """The roles a person may be granted, for one service or for the whole organisation."""

    service_user = "service_user"
    family = "family"
    staff = "staff"
    manager = "manager"
    board = "board"
    admin = "admin"
    partner = "partner"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.service_user: "Service user",
    Role.family: "Family or carer",
    Role.staff: "Staff",
    Role.manager: "Manager",
    Role.board: "Board member",
    Role.admin: "Administrator",
    Role.partner: "Partner",
}


class ServiceKind(enum.StrEnum):
    """What kind of service a service is."""

    care_home = "care_home"
    day_centre = "day_centre"
    home_care = "home_care"
    other = "other"

    @property
    def label(self) -> str:
        return {
            "care_home": "Care home",
            "day_centre": "Day centre",
            "home_care": "Home care",
            "other": "Other",
        }[self.value]


class PersonStatus(enum.StrEnum):
    """Whether a person is still involved with the organisation."""

    active = "active"
    left = "left"


# Formats after the Accessible Information Standard.
COMMUNICATION_FORMATS = {
    "large_print": "Large print",
    "easy_read": "Easy read",
    "audio": "Audio",
    "bsl": "British Sign Language",
    "braille": "Braille",
    "print": "Printed copies (no email)",
    "help_from_person": "Help from a named person",
    "hearing_loop": "Hearing loop",
}



class WrittenByImport:
    """Rows a background import writes in batches before they go live.

    ``import_id`` marks a row written by a running import: such rows are hidden from every
    ORM query (see :func:`_hide_rows_of_running_imports`) until the import's last step clears
    the mark in one short transaction, or they are deleted if the import fails. So an import is
    all-or-nothing for everyone else, though it commits every few hundred rows.
    """

    # No foreign key: people_import already points at person, and a cycle between the two
    # tables would complicate creating, dropping and restoring them.
    import_id: Mapped[int | None] = mapped_column(index=True)


class Organisation(db.Model):
    """The care provider that runs the services."""

    __tablename__ = "organisation"

    @property
    def organisation_id(self) -> int:
        """The organisation this belongs to (the organisation boundary)."""
        return self.id

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/London")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Counts the transactions that wrote any of the organisation's rows (see page_cache).
    data_version: Mapped[int] = mapped_column(default=0, server_default="0")

    services: Mapped[list[Service]] = relationship(back_populates="organisation",
                                                   order_by="Service.name")


class Service(db.Model):
    """A care home, day centre, home-care branch or other service of the organisation."""

    __tablename__ = "service"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[ServiceKind] = mapped_column(db_enum(ServiceKind, "service_kind"))
    address: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship(back_populates="services")

    @property
    def scope_service_id(self) -> int:
        return self.id

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class Person(WrittenByImport, db.Model):
    """Someone involved with the organisation, with or without an account."""

    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    full_name: Mapped[str] = mapped_column(String(200))
    preferred_name: Mapped[str] = mapped_column(String(100), default="")
    status: Mapped[PersonStatus] = mapped_column(db_enum(PersonStatus, "person_status"),
                                                 default=PersonStatus.active)
    photo: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    photo_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    photo_consent_note: Mapped[str] = mapped_column(String(300), default="")
    has_photo: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User | None] = relationship(back_populates="person", uselist=False)
    grants: Mapped[list[RoleGrant]] = relationship(
        back_populates="person", foreign_keys="RoleGrant.person_id",
        order_by="RoleGrant.starts_on")
    communication_needs: Mapped[CommunicationNeeds | None] = relationship(
        back_populates="person", uselist=False, foreign_keys="CommunicationNeeds.person_id")

    # In name order, a page of a large roll or list reads the index, not a sort of everyone.
    __table_args__ = (Index("ix_person_full_name_lower", func.lower(full_name)),
                      Index("ix_person_full_name_id", full_name, "id"))

    @property
    def display_name(self) -> str:
        """The name to greet someone by: the preferred name when they gave one."""
        return self.preferred_name or self.full_name.split(" ")[0]

    def active_grants(self, on: date | None = None) -> list[RoleGrant]:
        on = on or clock.today()
        return [g for g in self.grants if g.is_active(on)]


class User(UserMixin, WrittenByImport, db.Model):
    """A sign-in for a person: an email address, a username, or both."""

    __tablename__ = "user_account"

    @property
    def organisation_id(self) -> int:
        """The organisation this belongs to (the organisation boundary)."""
        return self.person.organisation_id
    __table_args__ = (
        CheckConstraint("email IS NOT NULL OR username IS NOT NULL", name="has_sign_in"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), unique=True)
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    username: Mapped[str | None] = mapped_column(String(60), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # Set whenever a password is chosen and never cleared: an invitation only ever activates
    # an account that has never had one.
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    text_size: Mapped[str] = mapped_column(String(10), default="normal")
    high_contrast: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # Loaded with the account in one statement: every signed-in request needs both.
    person: Mapped[Person] = relationship(back_populates="user", lazy="joined")

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)
        self.password_changed_at = utcnow()

    @property
    def has_had_password(self) -> bool:
        """True once the account has been set up, even if its password was later removed."""
        return self.password_hash is not None or self.password_changed_at is not None

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login: people who have left cannot sign in
        return self.person.status == PersonStatus.active and self.password_hash is not None

    @property
    def sign_in_name(self) -> str:
        return self.email or self.username or ""


class RoleGrant(WrittenByImport, db.Model):
    """A role held by a person for one service (``service_id``) or the organisation (NULL)."""

    __tablename__ = "role_grant"

    @property
    def organisation_id(self) -> int:
        """The organisation this belongs to (the organisation boundary)."""
        return self.person.organisation_id
    __table_args__ = (
        CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="ends_after_start"),
        Index("ix_role_grant_scope", "service_id", "role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    role: Mapped[Role] = mapped_column(db_enum(Role, "role"))
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id"))
    starts_on: Mapped[date] = mapped_column(default=date.today)
    ends_on: Mapped[date | None]
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    person: Mapped[Person] = relationship(back_populates="grants", foreign_keys=[person_id])
    service: Mapped[Service | None] = relationship()

    def is_active(self, on: date | None = None) -> bool:
        on = on or clock.today()
        return self.starts_on <= on and (self.ends_on is None or self.ends_on >= on)

    @property
    def scope_label(self) -> str:
        return self.service.name if self.service else "Whole organisation"


class FamilyLink(db.Model):
    """A family member or carer linked to the service user they support."""

    __tablename__ = "family_link"

    @property
    def organisation_id(self) -> int:
        """The organisation this belongs to (the organisation boundary)."""
        return self.family_person.organisation_id
    __table_args__ = (
        UniqueConstraint("family_person_id", "service_user_id"),
        CheckConstraint("family_person_id <> service_user_id", name="not_self"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    family_person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    service_user_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    relationship_label: Mapped[str] = mapped_column("relationship", String(60))

    family_person: Mapped[Person] = relationship(foreign_keys=[family_person_id])
    service_user: Mapped[Person] = relationship(foreign_keys=[service_user_id])


class CommunicationNeeds(WrittenByImport, db.Model):
    """How a person needs information, after the Accessible Information Standard.

    Flagged wherever the person is invited or written to.
    """

    __tablename__ = "communication_needs"

    @property
    def organisation_id(self) -> int:
        """The organisation this belongs to (the organisation boundary)."""
        return self.person.organisation_id

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), unique=True)
    formats: Mapped[list[str]] = mapped_column(JSON, default=list)
    helper_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    notes: Mapped[str] = mapped_column(Text, default="")

    person: Mapped[Person] = relationship(back_populates="communication_needs",
                                          foreign_keys=[person_id])
    helper: Mapped[Person | None] = relationship(foreign_keys=[helper_id])

    @property
    def labels(self) -> list[str]:
        return [COMMUNICATION_FORMATS.get(f, f) for f in self.formats]

    @property
    def wants_print(self) -> bool:
        return bool({"large_print", "print", "braille", "easy_read"} & set(self.formats))


class AmbassadorTerm(db.Model):
    """A term as ambassador, won in an election, for a service or the whole organisation."""

    __tablename__ = "ambassador_term"

    @property
    def organisation_id(self) -> int:
        """The organisation this belongs to (the organisation boundary)."""
        return self.person.organisation_id
    __table_args__ = (
        CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id"))
    starts_on: Mapped[date]
    ends_on: Mapped[date | None]
    election_id: Mapped[int | None]  # set by elections; no FK so this table stands on its own

    person: Mapped[Person] = relationship()
    service: Mapped[Service | None] = relationship()

    def is_active(self, on: date | None = None) -> bool:
        on = on or clock.today()
        return self.starts_on <= on and (self.ends_on is None or self.ends_on >= on)

    @property
    def scope_label(self) -> str:
        return self.service.name if self.service else "Whole organisation"


class InvitationPurpose(enum.StrEnum):
    """What a code lets its holder do: set up a new account, or reset the password of one."""

    invitation = "invitation"
    reset = "reset"


class Invitation(db.Model):
    """A code that lets its holder choose an account's password, once, before it expires.

    An *invitation* (signed link by email, or printed card) sets up an account that has never
    had a password. A *reset* card is printed by a manager or admin for someone without email
    and handed over in person; it only ever works for an account already in use.
    """

    __tablename__ = "invitation"

    @property
    def organisation_id(self) -> int:
        """The organisation this belongs to (the organisation boundary)."""
        return self.user.person.organisation_id

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    purpose: Mapped[InvitationPurpose] = mapped_column(
        db_enum(InvitationPurpose, "invitation_purpose"), default=InvitationPurpose.invitation)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class UserSession(db.Model):
    """A signed-in browser. Its cookie holds a random token and only the token's hash is kept.

    Deleting the row ends the session on the server: a copy of the cookie is dead from then on.
    ``last_seen_at`` is refreshed at most once a minute, for the idle sign-out.
    """

    __tablename__ = "user_session"

    @property
    def organisation_id(self) -> int | None:
        """The organisation this belongs to (the organisation boundary)."""
        return self.user.person.organisation_id

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                         index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()


class SignInAttempt(db.Model):
    """One try at signing in from an address: counted to slow down and lock password guessing.

    ``user_id`` is empty when the name matched no account. Nothing typed is kept.
    """

    __tablename__ = "sign_in_attempt"

    @property
    def organisation_id(self) -> int | None:
        """The organisation this belongs to (the organisation boundary)."""
        return self.user.person.organisation_id if self.user_id else None
    __table_args__ = (Index("ix_sign_in_attempt_user_at", "user_id", "at"),
                      Index("ix_sign_in_attempt_address_at", "ip_address", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id",
                                                           ondelete="CASCADE"))
    user: Mapped[User | None] = relationship()
    ip_address: Mapped[str] = mapped_column(String(45), default="")
    succeeded: Mapped[bool] = mapped_column(default=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def active_grants_query(on: date | None = None):
    """Role grants in force on a day (today by default)."""
    on = on or clock.today()
    return select(RoleGrant).where(
        RoleGrant.starts_on <= on, (RoleGrant.ends_on.is_(None)) | (RoleGrant.ends_on >= on))


class ImportStatus(enum.StrEnum):
    """Where a CSV import of people has got to."""

    previewed = "previewed"
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


class PeopleImport(db.Model):
    """An uploaded CSV file of people, kept between its preview and the admin's confirmation.

    Found by a random token rather than the session, so the file never travels in a cookie;
    only the admin who uploaded it may see or confirm it.
    """

    __tablename__ = "people_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200), default="")
    content: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    status: Mapped[ImportStatus] = mapped_column(db_enum(ImportStatus, "import_status"),
                                                 default=ImportStatus.previewed)
    total_rows: Mapped[int] = mapped_column(default=0)
    # Rows written so far; committed with each batch, so a resumed import carries on from here.
    rows_done: Mapped[int] = mapped_column(default=0)
    # Which run of the background task owns the import: a batch commits only while its run
    # still does, so a run taken over after a crash can never write twice.
    attempt: Mapped[int] = mapped_column(default=0)
    # Written with every batch; a running import whose heartbeat stops was left by a worker
    # that stopped, and is resumed (see people/tasks.py).
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_by: Mapped[Person] = relationship()

    @property
    def scope_service_id(self) -> None:
        return None


@event.listens_for(Session, "do_orm_execute")
def _hide_rows_of_running_imports(state: ORMExecuteState) -> None:
    """Leave out, from every ORM query, the rows of imports not yet finished.

    The import itself asks for them with ``execution_options(include_pending_imports=True)``.
    """
    if (state.is_select and not state.is_column_load
            and not state.execution_options.get("include_pending_imports", False)):
        state.statement = state.statement.options(with_loader_criteria(
            WrittenByImport, lambda cls: cls.import_id.is_(None), include_aliases=True))
