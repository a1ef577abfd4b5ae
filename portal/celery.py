import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

# portal.health holds the worker's ping task (tests/services.py uses it to prove a worker
# is up and reads the test database); the apps' tasks.py modules are found by autodiscovery.
app = Celery("portal", include=["portal.health"])
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


# Issue 6: the modules holding the tasks of subscriptions, error reports and keyed emails
# (autodiscovery only finds tasks.py), and the periodic reminders job -- the same service
# function as `manage.py send_reminders` for cron: renewal and stale-file reminders, ended
# subscriptions, new-release emails; each email once, so overlapping runs are harmless.
app.conf.include = [*(app.conf.include or ()), "portal.notices", "portal.subscriptions", "portal.reports",
                    "portal.reminders", "portal.fanout",  # issue 7: the release fan-out
                    "portal.recovery"]  # issue 7: paid orders whose build or emails were lost
app.conf.beat_schedule = {
    **(app.conf.beat_schedule or {}),
    "send-reminders": {
        "task": "portal.reminders.run_reminders",
        "schedule": float(os.environ.get("REMINDERS_EVERY_SECONDS") or 3600),
    },
    # Paid orders whose fulfilment, build or emails were lost (Redis down or emptied, a crash
    # between two steps) are queued again; the same as `manage.py resume_orders` for cron.
    "resume-orders": {
        "task": "portal.recovery.resume_orders_task",
        "schedule": float(os.environ.get("RESUME_ORDERS_EVERY_SECONDS") or 300),
    },
}
