"""The WSGI application: gunicorn in production (``gunicorn -c portal/gunicorn_conf.py``).

Static files are served by WhiteNoise's middleware inside this application (settings,
"Static files"), so no separate file server is needed; with PRODUCTION=1 they come from
STATIC_ROOT, filled by ``manage.py collectstatic``.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
application = get_wsgi_application()
