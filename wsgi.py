"""The WSGI entry point: ``gunicorn wsgi:app``."""

from involve import create_app

app = create_app()
