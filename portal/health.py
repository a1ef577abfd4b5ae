"""A trivial task that proves a Celery worker is up and can reach the database."""

import os
import socket
import time

from celery import shared_task
from django.db import connection


@shared_task(name="portal.health.ping")
def ping(echo=None, sleep=0.0):
    """Answer with the worker's pid and the database it is connected to.

    Reading ``django_migrations`` proves the worker opened a migrated database (in tests: the
    very test database, which the caller compares by name). ``sleep`` (seconds, at most 60)
    keeps the worker busy, for tests that kill it in the middle of a task.
    """
    time.sleep(min(float(sleep), 60.0))
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM django_migrations")
        (migrations,) = cursor.fetchone()
    return {
        "pong": echo,
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "db_vendor": connection.vendor,
        "db_name": str(connection.settings_dict["NAME"]),
        "migrations": migrations,
    }
