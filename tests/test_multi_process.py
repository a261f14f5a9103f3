"""Two gunicorn webs and two workers on PostgreSQL and Redis: scripts/multi_process_check.py.

Skipped unless PostgreSQL and Redis answer on loopback.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
POSTGRES = os.environ.get("INVOLVE_TEST_DATABASE_URL",
                          "postgresql://postgres@127.0.0.1:5432/involve_test")
DATABASE_URL = POSTGRES.rsplit("/", 1)[0] + "/" + POSTGRES.rsplit("/", 1)[1] + "_multi_process"
REDIS_URL = os.environ.get("INVOLVE_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not (_answers("127.0.0.1", 5432) and _answers("127.0.0.1", 6379)),
                    reason="needs PostgreSQL and Redis on loopback")
def test_two_webs_and_two_workers_keep_their_promises():
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "multi_process_check.py"),
         "--database-url", DATABASE_URL, "--redis-url", REDIS_URL],
        capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    assert "all held" in result.stdout
