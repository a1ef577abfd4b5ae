"""Error pages: in production (DEBUG off) they show no settings or traceback; with DEBUG on,
Django's debug page masks the passwords inside DATABASE_URL, REDIS_URL and the like."""

import pytest
from django.urls import path

from portal.lib.error_reports import mask_url_passwords

DB_PASSWORD = "db-" + "Pa55word"   # built, so the source lines on the debug page do not hold it
REDIS_PASSWORD = "redis-" + "Pa55word"


def boom(request):
    raise RuntimeError("the page failed")


urlpatterns = [path("boom/", boom)]


@pytest.fixture
def failing_site(settings, client):
    settings.ROOT_URLCONF = __name__
    settings.DATABASE_URL = f"postgres://shop:{DB_PASSWORD}@db.internal:5432/shop"
    settings.REDIS_URL = f"redis://:{REDIS_PASSWORD}@cache.internal:6379/0"
    settings.CELERY_BROKER_URL = f"redis://worker:{REDIS_PASSWORD}@cache.internal:6379/1"
    client.raise_request_exception = False
    return client


@pytest.mark.django_db
def test_the_debug_page_masks_passwords_inside_urls(failing_site, settings):
    settings.DEBUG = True
    response = failing_site.get("/boom/", HTTP_X_SERVICE_URL=f"postgres://admin:{DB_PASSWORD}@other/db")
    assert response.status_code == 500
    page = response.content.decode()
    assert "RuntimeError" in page and "DATABASE_URL" in page          # the technical page
    assert DB_PASSWORD not in page and REDIS_PASSWORD not in page
    assert "postgres://shop:********************@db.internal:5432/shop" in page
    assert "redis://:********************@cache.internal:6379/0" in page


@pytest.mark.django_db
@pytest.mark.parametrize("url, status, title", [("/boom/", 500, "Something went wrong"),
                                                ("/no-such-page/", 404, "Page not found")])
def test_production_error_pages_show_no_settings_nor_traceback(failing_site, settings, url, status, title):
    settings.DEBUG = False
    if status == 404:
        settings.ROOT_URLCONF = "portal.urls"
    response = failing_site.get(url)
    assert response.status_code == status
    page = response.content.decode()
    assert title in page
    for secret in ("DATABASE_URL", DB_PASSWORD, REDIS_PASSWORD, "Traceback", "RuntimeError", "SECRET_KEY",
                   "settings"):
        assert secret not in page


@pytest.mark.parametrize("text, masked", [
    ("postgres://shop:pw@db/shop", "postgres://shop:***@db/shop"),
    ("redis://:pw@cache:6379/0", "redis://:***@cache:6379/0"),
    ("postgres://shop:p@ss:w@db/shop", "postgres://shop:***@db/shop"),
    ("https://shop.example/account/", "https://shop.example/account/"),
    ("redis://cache:6379/0", "redis://cache:6379/0"),
])
def test_url_passwords_are_masked_and_other_urls_kept(text, masked):
    assert mask_url_passwords(text, "***") == masked
