"""The Celery application. Tasks are in ``portal.tasks`` (found by autodiscovery), the
periodic ones are scheduled in ``settings.CELERY_BEAT_SCHEDULE``."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _redis_visibility_timeout(sender, **kwargs):
    """CELERY_VISIBILITY_TIMEOUT (seconds): how soon Redis hands the task of a worker that died
    (acks_late) to another worker; kombu's default is one hour. It must stay longer than the
    longest countdown/ETA, or such tasks are delivered twice. Fault tests set it low."""
    raw = os.environ.get("CELERY_VISIBILITY_TIMEOUT", "")
    if raw and str(sender.conf.broker_url or "").startswith(("redis://", "rediss://")):
        seconds = float(raw)
        sender.conf.broker_transport_options = {
            **(sender.conf.broker_transport_options or {}),
            "visibility_timeout": seconds,
            "unacked_restore_interval": max(0.5, min(10.0, seconds / 2)),
            "unacked_restore_throttle": 1,
        }
