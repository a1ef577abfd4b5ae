"""The WSGI application: gunicorn in production (``gunicorn -c portal/gunicorn_conf.py``).

Static files are served by WhiteNoise's middleware inside this application (settings,
"Static files"), so no separate file server is needed; with PRODUCTION=1 they come from
STATIC_ROOT, filled by ``manage.py collectstatic``.

Loading it warms the process (each gunicorn worker loads it before taking requests, at start
and after a max_requests restart): the URL configuration and views, and the object store's
client and signer, which a download would otherwise pay for in its own response time.
"""

import logging
import os

from django.core.wsgi import get_wsgi_application
from django.urls import resolve

from cameras.storage import get_store

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
application = get_wsgi_application()


def warm() -> None:
    try:
        resolve("/")
        store = get_store()
        if store.remote:
            store.warm()
    except Exception as exc:  # noqa: BLE001 -- an optimisation only: the first request says what is wrong
        logging.getLogger(__name__).warning("warming the web process failed: %s", exc)


warm()
