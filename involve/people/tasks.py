"""Background work for people: importing large CSV files with progress."""

from __future__ import annotations

from huey import crontab

from involve.extensions import db, huey, utcnow, with_app_context
from involve.people.models import ImportStatus, PeopleImport
from involve.scheduling import periodic_task


def progress_key(upload: PeopleImport) -> str:
    return f"people-import:{upload.token}"


def rows_done(upload: PeopleImport) -> int:
    """Rows imported so far: the live count while the task runs, else the row's own."""
    if upload.status == ImportStatus.running:
        # The import's rows commit together at the end, so the live count travels through
        # Huey's own store, which the worker and the web servers share.
        live = huey.get(progress_key(upload), peek=True)
        if live is not None:
            return int(live)
    return upload.rows_done


@huey.task()
@with_app_context
def run_import(import_id: int) -> None:
    """Import a confirmed file of people in one transaction, reporting progress as it goes."""
    from involve.people import services

    upload = db.session.get(PeopleImport, import_id)
    if upload is None or upload.status != ImportStatus.queued:
        return
    upload.status = ImportStatus.running
    db.session.commit()
    key = progress_key(upload)
    huey.put(key, 0)
    try:
        result = services.check_import(upload)
        if not result.ok:
            raise services.PeopleError(
                "The file has problems now that were not there at the preview. "
                "Upload it again to see them.")
        services.import_rows(upload, result.rows, by=upload.created_by,
                             progress=lambda n: huey.put(key, n))
        db.session.commit()
    except Exception as error:
        db.session.rollback()
        upload = db.session.get(PeopleImport, import_id)
        upload.status = ImportStatus.failed
        upload.finished_at = utcnow()
        upload.error = (str(error) if isinstance(error, services.PeopleError) else
                        "Something went wrong during the import. Nobody was imported.")
        upload.content = b""  # personal data: not kept for an import that will not run
        db.session.commit()
        if not isinstance(error, services.PeopleError):
            raise
    finally:
        huey.get(key)  # forget the live count


@periodic_task(crontab(minute="*/15"))
def forget_old_uploads() -> None:
    """Every 15 minutes: fail imports a stopped worker left behind, and remove uploaded files
    of people that were never imported."""
    from involve.people import services

    services.fail_stale_imports()
    services.forget_old_uploads()
    db.session.commit()
