# Involve: one image for the web processes (gunicorn) and the background worker (flask worker).
# Not exercised by the test suite (no container runtime there); see README, "Running in production".
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    FLASK_APP=involve

RUN useradd --create-home --uid 10001 involve
WORKDIR /app

# The versions tested together, then the project (editable: templates, static files and
# migrations stay beside the package, where the app finds them).
COPY pyproject.toml constraints.txt README.md ./
COPY involve ./involve
COPY templates ./templates
COPY static ./static
COPY migrations ./migrations
COPY wsgi.py gunicorn.conf.py ./
RUN pip install -c constraints.txt -e '.[gunicorn,redis,postgres-queue]' \
    && mkdir -p /app/instance && chown involve:involve /app/instance

USER involve
ENV INVOLVE_BIND=0.0.0.0:8000
EXPOSE 8000
# Web by default; compose runs the worker from the same image with `flask worker`.
CMD ["gunicorn", "-c", "gunicorn.conf.py"]
