"""Background work for people: importing large CSV files with progress."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from involve.extensions import db, huey, with_app_context
from involve.kernel.clock import crontab
from involve.people.models import ImportStatus, PeopleImport
from involve.scheduling import periodic_task

# How often an unfinished import is looked at, to resume it if its worker stopped.
WATCH_SECONDS = 60


def start_import(import_id: int) -> None:
    """Queue a confirmed import, and the watch that resumes it if its worker stops."""
    run_import(import_id)
    watch_import.schedule(args=(import_id,), delay=WATCH_SECONDS)


@huey.task()
@with_app_context
def run_import(import_id: int) -> None:
    """Import a confirmed file of people in batches, each its own short transaction.

    The rows stay hidden until :func:`services.finish_import` makes them all live in one short
    step, so the import is still all-or-nothing. A run that finds the import already running
    with a live heartbeat does nothing; one that finds it stalled resumes it from its last batch.
    """
    from involve.people import services

    upload = services.claim_import(import_id)
    if upload is None:
        db.session.rollback()
        return
    db.session.commit()
    attempt = upload.attempt
    try:
        result = services.check_import(upload)
        if not result.ok:
            raise services.PeopleError(
                "The file has problems now that were not there at the preview. "
                "Upload it again to see them.")
        while services.write_import_batch(upload, result.rows, attempt=attempt):
            db.session.commit()
        services.finish_import(upload, attempt=attempt)
        db.session.commit()
    except services.ImportTakenOver:
        db.session.rollback()  # another run resumed it, or it was failed meanwhile
    except Exception as error:
        db.session.rollback()
        upload = db.session.get(PeopleImport, import_id)
        if upload.status != ImportStatus.running or upload.attempt != attempt:
            return
        if isinstance(error, services.PeopleError):
            message = str(error)
        elif isinstance(error, IntegrityError):
            message = services.IMPORT_CLASH_MESSAGE
        else:
            message = "Something went wrong during the import. Nobody was imported."
        services.fail_import(upload, message)
        db.session.commit()
        if not isinstance(error, services.PeopleError | IntegrityError):
            raise


@huey.task()
@with_app_context
def watch_import(import_id: int) -> None:
    """Every minute while an import is unfinished: resume it if its worker stopped, and fail
    it plainly once it has stopped too often."""
    from involve.people import services

    upload = db.session.get(PeopleImport, import_id)
    if upload is None or upload.status not in (ImportStatus.queued, ImportStatus.running):
        return
    if services.import_stalled(upload):
        if upload.attempt >= services.IMPORT_MAX_ATTEMPTS:
            services.fail_import(upload, services.STOPPED_TOO_OFTEN_MESSAGE)
            db.session.commit()
            return
        run_import(import_id)  # its claim makes a second run of one import harmless
    watch_import.schedule(args=(import_id,), delay=WATCH_SECONDS)


@periodic_task(crontab(minute="*/15"))
def forget_old_uploads() -> None:
    """Every 15 minutes: fail imports a stopped worker left behind, and remove uploaded files
    of people that were never imported."""
    from involve.people import services

    services.fail_stale_imports()
    services.forget_old_uploads()
    db.session.commit()
