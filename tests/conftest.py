import os
from pathlib import Path

import pytest
from django.conf import settings

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def shared_file(name: str) -> Path:
    """A third-party dataset from SHARED_DATA_DIR. Missing: skip locally, fail in CI."""
    path = Path(settings.SHARED_DATA_DIR) / name
    if not path.exists():
        message = f"shared dataset {path} is missing (set SHARED_DATA_DIR)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture
def shared():
    return shared_file


@pytest.fixture(autouse=True)
def _releases_dir(tmp_path, settings):
    settings.RELEASES_DIR = tmp_path / "releases"
    # Publishing a release would queue package builds for every catalog device; only the
    # fan-out tests (tests/portal/services/test_fanout.py) turn it on.
    settings.FANOUT_ON_PUBLISH = False


@pytest.fixture(autouse=True)
def _english_between_tests():
    """Each test starts in English and leaves English active: a request to /fr/... activates
    French in its thread (LocaleMiddleware), and nothing else would switch it back."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def release(tmp_path):
    """A published release of 600 demo cameras; modules wanting other data define their own."""
    from tests.releases import demo_release

    return demo_release(tmp_path)


# Real services for end-to-end tests (localstripe, SMTP sink, Celery worker, Chromium):
# see tests/services.py.
from tests.services import (  # noqa: E402,F401
    _quiet_before_flush,
    browser,
    celery_worker_process,
    celery_worker_server,
    configure_test_process,
    localstripe,
    localstripe_server,
    page,
    smtp_server,
    smtp_sink,
    webhook_sink,
)

# An S3 API (moto server mode) for the object store: see tests/s3.py.
from tests.s3 import s3_server, s3_store  # noqa: E402,F401


def pytest_configure(config):
    configure_test_process(config)
