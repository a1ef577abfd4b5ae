import uuid

import pytest
from django.core.cache import cache
from django.test import Client

from portal.celery import app
from tests.portal.panelkit import customer, paid_order


@pytest.fixture(autouse=True)
def _portal_storage(settings, tmp_path):
    """Every portal test: packages under tmp_path, e-mail to the locmem outbox. A module that
    wants something else (an SMTP sink, a worker's shared store) sets it in its own fixture,
    which runs after this one."""
    settings.PACKAGES_DIR = tmp_path / "packages"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def local_cache(settings):
    """A local-memory cache of this test's own. Its entries expire on the clock time-machine
    moves (Redis keeps its own time), and no other xdist worker's cache.clear() on the Redis
    the PostgreSQL pass shares can flush it."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": f"test-{uuid.uuid4()}"}}
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _celery_conf_restored():
    """Whatever a test or a module's fixture sets on the Celery app (eager tasks, propagated
    errors) is undone after it, so no test depends on which ran before it."""
    keys = ("task_always_eager", "task_eager_propagates")
    saved = {key: app.conf.get(key) for key in keys}
    yield
    app.conf.update(saved)


@pytest.fixture
def eager(settings):
    """Celery tasks run inline. Modules wanting something else (test_panel, test_shop_flow)
    define their own."""
    settings.SITE_URL = "https://shop.example"
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture
def eager_raising(eager):
    """``eager``, and a failing task's error is raised in the test (the panel's builds)."""
    app.conf.task_eager_propagates = True


# ---------------------------------------------------------------------------------------
# The cast: an owner and an outsider, each a customer with a paid order of their own


@pytest.fixture
def owner(db):
    return customer("owner@example.com")


@pytest.fixture
def owner_order(owner):
    return paid_order(owner)


@pytest.fixture
def outsider(db):
    return customer("outsider@example.com")


@pytest.fixture
def outsider_order(outsider):
    return paid_order(outsider, device="garmin-nuvi", coverage=("DE",))


def _logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def owner_client(owner, owner_order):
    return _logged_in(owner)


@pytest.fixture
def outsider_client(outsider, outsider_order):
    return _logged_in(outsider)
