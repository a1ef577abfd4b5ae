import pytest

from portal.celery import app


@pytest.fixture
def eager(settings, tmp_path):
    """Celery tasks run inline; packages under tmp_path, e-mail to the locmem outbox. Modules
    wanting something else (test_panel, test_shop_flow) define their own."""
    settings.PACKAGES_DIR = tmp_path / "packages"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "https://shop.example"
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False
