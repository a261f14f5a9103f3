"""Gunicorn settings for Involve: ``gunicorn -c gunicorn.conf.py`` (see README, "Running in
production"). Every value can be changed through the environment named beside it."""

import multiprocessing
import os

from involve.logs import logging_config

wsgi_app = "wsgi:app"
bind = os.environ.get("INVOLVE_BIND", "127.0.0.1:8000")

# Processes times threads: threads suit a web app that mostly waits on its database.
workers = int(os.environ.get("INVOLVE_WEB_WORKERS", min(multiprocessing.cpu_count() * 2 + 1, 8)))
threads = int(os.environ.get("INVOLVE_WEB_THREADS", "4"))
worker_class = "gthread"

# A request taking longer than this is stuck: its worker is restarted.
timeout = int(os.environ.get("INVOLVE_WEB_TIMEOUT", "60"))
# On SIGTERM (systemd stop, docker stop) finish requests in flight for up to this long.
graceful_timeout = int(os.environ.get("INVOLVE_WEB_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
# Recycle workers now and then so slow leaks never grow; jitter keeps them from all restarting
# together.
max_requests = 2000
max_requests_jitter = 200
# Each worker opens its own database connections after forking.
preload_app = False

# Only the reverse proxy on this machine may set X-Forwarded-*; Involve's own ProxyFix
# (INVOLVE_TRUST_PROXY) reads them.
forwarded_allow_ips = os.environ.get("INVOLVE_FORWARDED_ALLOW_IPS", "127.0.0.1")

# Logs: JSON lines on stdout. The access line has the path without its query string
# (%(U)s, never %(r)s or %(q)s), because links in emails carry tokens there.
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
logconfig_dict = logging_config(os.environ.get("INVOLVE_LOG_LEVEL", "INFO"))
