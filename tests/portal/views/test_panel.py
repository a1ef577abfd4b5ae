"""The customer panel with Django's test client: purchases and the selector, the latest file
(built, from the store, or being built), signed panel downloads recorded as ``Download``
rows, what changed since the last download (only the customer's coverage), update periods,
coverage setup with exact sizes and fit suggestions, the France icon sets."""

import re
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from portal.services import purchases as panel, queue
from portal.models import Download, Order

from tests.portal.panelkit import PASSWORD, body, customer, first_release, manifest, next_release, paid_order

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clean(settings, local_cache):
    settings.UPDATE_MONTHS = 12


@pytest.fixture
def release(tmp_path):
    return first_release(tmp_path)


@pytest.fixture
def lea(client):
    user = customer()
    client.force_login(user)
    return user


def built(order, django_capture_on_commit_callbacks, client):
    """Open the panel page of ``order`` with eager tasks: the build runs at commit."""
    with django_capture_on_commit_callbacks(execute=True):
        client.get(reverse("panel-order", args=[order.public_id]))
    order.refresh_from_db()
    return order


def download_link(page: str) -> str:
    return re.search(r'id="download" href="([^"]+)"', page).group(1)


def page_of(client, order) -> str:
    response = client.get(reverse("panel-order", args=[order.public_id]))
    assert response.status_code == 200
    return response.content.decode()


# ---------------------------------------------------------------------------------------
# login and the selector


def test_an_anonymous_visitor_is_sent_to_the_login_page(client, release):
    response = client.get(reverse("panel-home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts-login"))


def test_logging_in_with_the_email_and_password_opens_the_panel(client, release):
    user = customer("Mia@Example.com")
    paid_order(user)
    response = client.post(reverse("accounts-login"), {"username": "mia@example.com", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("panel-home")
    assert "TomTom GO classic" in client.get(reverse("panel-home")).content.decode()


def test_a_customer_without_purchases_sees_none_and_the_way_to_buy(client, lea, release):
    page = client.get(reverse("panel-home")).content.decode()
    assert "No purchases yet" in page and 'id="add-device-select"' in page


def test_the_selector_lists_each_paid_purchase_and_shows_the_one_chosen(client, lea, release):
    tomtom = paid_order(lea, paid_at=timezone.now() - timedelta(days=2))
    garmin = paid_order(lea, device="garmin-nuvi", coverage=["DE"], paid_at=timezone.now() - timedelta(days=1))
    paid_order(lea, device="igo-primo", status=Order.Status.PENDING, paid_at=None)     # not paid: not listed
    paid_order(lea, device="navitel", status=Order.Status.REFUNDED)                    # refunded: not listed
    page = client.get(reverse("panel-home")).content.decode()
    options = re.findall(r'<option value="([0-9a-f-]{36})"( selected)?>', page)
    assert [o[0] for o in options] == [str(tomtom.public_id), str(garmin.public_id)]
    assert options[1][1] == " selected"                               # the newest purchase is shown first
    assert 'id="device-name">Garmin nüvi' in page
    response = client.get(reverse("panel-home"), {"order": str(tomtom.public_id)})   # the selector's form
    assert response.status_code == 302 and response["Location"] == reverse("panel-order", args=[tomtom.public_id])
    assert 'id="device-name">TomTom GO classic' in page_of(client, tomtom)
    assert "iGO" not in page.split('id="add-device"')[0] and "Navitel" not in page.split('id="add-device"')[0]


# ---------------------------------------------------------------------------------------
# the latest file and downloads


def test_the_latest_file_downloads_through_a_signed_link_and_each_download_is_recorded(
        client, lea, release, eager_raising, django_capture_on_commit_callbacks):
    order = built(paid_order(lea, mobile=True), django_capture_on_commit_callbacks, client)
    assert order.package_key and order.release == release
    page = page_of(client, order)
    assert f"speedcams-tomtom-go-classic-r{release.number}.zip" in page
    link = download_link(page)
    assert link.startswith(f"/account/devices/{order.public_id}/download/")
    response = client.get(link)
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment")
    data = manifest(body(response))
    assert data["device"]["id"] == "tomtom-go-classic" and data["counts"]["by_country"].keys() == {"FR"}
    client.get(link)
    downloads = list(Download.objects.filter(order=order))
    assert len(downloads) == 2 and {d.release for d in downloads} == {release} and downloads[0].via == "panel"
    page = page_of(client, order)
    assert page.count("<td>panel</td>") == 2                       # past downloads


def test_a_forged_or_another_orders_link_gives_nothing_and_an_expired_one_a_fresh_link(
        client, lea, release, eager_raising, django_capture_on_commit_callbacks, settings):
    order = built(paid_order(lea), django_capture_on_commit_callbacks, client)
    other = built(paid_order(lea, device="garmin-nuvi"), django_capture_on_commit_callbacks, client)
    link = download_link(page_of(client, order))
    token = link.rstrip("/").split("/")[-1]
    assert client.get(link[:-3] + "xx/").status_code == 404                                  # forged
    assert client.get(reverse("download-panel", args=[other.public_id, token])).status_code == 404  # wrong order
    settings.PANEL_DOWNLOAD_LINK_MAX_AGE = -1
    response = client.get(link)
    assert response.status_code == 302 and response["Location"] == reverse("panel-order", args=[order.public_id])
    assert not Download.objects.exists()


def test_a_file_not_built_yet_is_queued_once_and_shown_as_being_built(client, lea, release, monkeypatch):
    queued = []
    from portal import tasks

    monkeypatch.setattr(queue, "on_commit", lambda task, order_id: queued.append(order_id))
    order = paid_order(lea)
    page = page_of(client, order)
    assert 'id="building"' in page and "being built" in page and 'id="download"' not in page
    page_of(client, order)
    assert queued == [order.pk]                                   # not again on the next view
    status = client.get(reverse("panel-status", args=[order.public_id])).json()
    assert status == {"ready": False, "building": True, "error": "", "release": None, "filename": "",
                      "download_url": "", "updates_active": True}


def test_a_package_in_the_store_for_the_same_settings_is_offered_without_a_build(
        client, lea, release, eager_raising, django_capture_on_commit_callbacks, monkeypatch):
    first = built(paid_order(lea, coverage=["BE"]), django_capture_on_commit_callbacks, client)
    from portal import tasks

    monkeypatch.setattr(queue, "on_commit", lambda task, order_id: pytest.fail("built again"))
    bob = customer("bob@example.com")
    second = paid_order(bob, coverage=["BE"])
    client.force_login(bob)
    page = page_of(client, second)
    assert 'id="download"' in page and "being built" not in page
    second.refresh_from_db()
    assert second.package_key == first.package_key and second.release == release


def test_a_failed_build_is_shown_with_its_reason(client, lea, release):
    order = paid_order(lea, package_error="the device cannot show mobile cameras")
    page = page_of(client, order)
    assert "could not be built: the device cannot show mobile cameras" in page


# ---------------------------------------------------------------------------------------
# update periods


def test_a_one_time_purchase_states_its_update_period_from_the_setting(client, lea, release, settings):
    settings.UPDATE_MONTHS = 3
    paid = datetime(2026, 1, 31, 12, tzinfo=dt_timezone.utc)
    order = paid_order(lea, paid_at=paid)
    with time_machine.travel(paid + timedelta(days=10)):
        page = page_of(client, order)
    assert "with 3 months of updates" in page and "new releases are included until April 30, 2026" in page
    assert panel.updates(order).one_time_until == datetime(2026, 4, 30, 12, tzinfo=dt_timezone.utc)


def test_after_the_update_period_the_last_file_stays_but_new_releases_are_not_offered(
        client, lea, tmp_path, eager_raising, django_capture_on_commit_callbacks, monkeypatch):
    paid = timezone.now() - timedelta(days=400)
    with time_machine.travel(paid - timedelta(hours=1)):
        first = first_release(tmp_path)
    order = paid_order(lea, paid_at=paid)
    with time_machine.travel(paid + timedelta(days=1)):
        order = built(order, django_capture_on_commit_callbacks, client)
    assert order.release == first
    second, _ = next_release({"FR": {"added": 2}})
    from portal import tasks

    monkeypatch.setattr(queue, "on_commit", lambda task, order_id: pytest.fail("no new file"))
    page = page_of(client, order)
    assert "updates ended on" in page and f"the latest is release {second.number}) are not included" in page
    link = download_link(page)
    assert manifest(body(client.get(link)))["release"]["number"] == first.number
    assert Download.objects.get(order=order).release == first
    # nor can its settings change any more
    response = client.post(reverse("panel-coverage", args=[order.public_id]), {"codes": ["BE"]})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.coverage == ["FR"]


def test_an_annual_subscription_gets_new_releases_until_its_end(client, lea, tmp_path, monkeypatch):
    paid = timezone.now() - timedelta(days=400)
    with time_machine.travel(paid - timedelta(hours=1)):
        first_release(tmp_path)
    order = paid_order(lea, paid_at=paid, plan="annual", subscription_status="active",
                       subscription_end=timezone.now() + timedelta(days=30))
    second, _ = next_release({"FR": {"added": 1}})
    queued = []
    from portal import tasks

    monkeypatch.setattr(queue, "on_commit", lambda task, order_id: queued.append(order_id))
    page = page_of(client, order)
    assert "Annual subscription, new releases included until" in page and 'id="building"' in page
    assert f"release {second.number}" in page and queued == [order.pk]
    assert panel.updates(order).active
    order.subscription_status = "ended"
    assert not panel.updates(order).active


# ---------------------------------------------------------------------------------------
# what changed since the last download


def test_what_changed_counts_only_the_cameras_in_the_customers_coverage(
        client, lea, release, eager_raising, django_capture_on_commit_callbacks):
    order = built(paid_order(lea, coverage=["FR"]), django_capture_on_commit_callbacks, client)
    client.get(download_link(page_of(client, order)))        # the last download: release 1
    second, touched = next_release({"FR": {"added": 2, "removed": 1, "moved": 3}, "DE": {"added": 5, "removed": 4}})
    changes = panel.changes(order, second)
    assert (changes.since, changes.current) == (release, second)
    assert (changes.added, changes.removed, changes.moved) == (2, 1, 3)
    assert set(changes.by_country) == {"FR"}
    assert sorted(c["id"] for c in changes.samples["added"]) == sorted(touched["added"][:2])
    assert {c["id"] for c in changes.samples["moved"]} == set(touched["moved"])
    assert all(1000 < c["moved_m"] < 1300 for c in changes.samples["moved"])
    page = page_of(client, order)
    assert re.search(r'data-testid="added">2<.*data-testid="removed">1<.*data-testid="moved">3<', page, re.S)
    assert "your last download" in page
    png = client.get(reverse("panel-changes-map", args=[order.public_id]))
    assert png.status_code == 200 and png["Content-Type"] == "image/png" and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    # a customer covering Germany sees Germany's changes only
    de = paid_order(lea, device="garmin-nuvi", coverage=["DE"], paid_at=release.created_at)
    changes = panel.changes(de, second)
    assert (changes.added, changes.removed, changes.moved) == (5, 4, 0)


def test_without_a_panel_download_changes_count_from_the_file_of_the_purchase(client, lea, release):
    order = paid_order(lea, coverage=["FR"])
    second, _ = next_release({"FR": {"added": 1}})
    changes = panel.changes(order, second)
    assert changes.since == release and changes.added == 1 and "with your purchase" in changes.since_label


def test_with_the_latest_release_downloaded_nothing_changed(client, lea, release, eager_raising,
                                                             django_capture_on_commit_callbacks):
    order = built(paid_order(lea), django_capture_on_commit_callbacks, client)
    client.get(download_link(page_of(client, order)))
    assert "No changes:" in page_of(client, order)


# ---------------------------------------------------------------------------------------
# coverage setup


def test_the_size_endpoint_gives_the_exact_size_against_the_device_limit(client, lea, release):
    order = paid_order(lea, device="garmin-nuvi")
    url = reverse("panel-coverage-size", args=[order.public_id])
    fr = client.get(url, {"codes": ["FR"]}).json()
    both = client.get(url, {"codes": ["FR", "DE"]}).json()
    assert fr["max_pois"] == 50_000 and fr["fits"] is True
    assert 0 < fr["pois"] < both["pois"] and set(both["by_country"]) == {"FR", "DE"}
    assert fr["cameras"] <= release.counts["country"]["FR"]          # fixed cameras only: no mobile option
    assert client.get(url, {"codes": "FR,DE"}).json()["pois"] == both["pois"]
    bad = client.get(url, {"codes": ["Atlantis"]})
    assert bad.status_code == 400 and "Atlantis" in bad.json()["error"]
    assert client.get(url).status_code == 400


def test_a_fit_suggestion_adds_the_nearest_countries_that_still_fit(client, lea, release):
    order = paid_order(lea, device="mercedes-comand", mobile=False)     # a real 25,000-POI limit
    data = client.get(reverse("panel-coverage-fit", args=[order.public_id]), {"codes": ["BE"]}).json()
    assert data["fits"] is True and "BE" in data["codes"] and len(data["codes"]) > 1
    assert data["pois"] <= data["max_pois"]
    assert data["added"][0]["country"] in {"NL", "FR", "DE", "LU"}     # neighbours first


def test_saving_a_coverage_makes_the_next_download_use_it(client, lea, release, eager_raising,
                                                          django_capture_on_commit_callbacks):
    order = built(paid_order(lea, coverage=["FR"]), django_capture_on_commit_callbacks, client)
    page = client.get(reverse("panel-coverage", args=[order.public_id])).content.decode()
    assert 'value="FR" checked' in page and 'value="BE">' in page
    response = client.post(reverse("panel-coverage", args=[order.public_id]), {"codes": ["FR", "BE"]})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.coverage == ["BE", "FR"]
    order = built(order, django_capture_on_commit_callbacks, client)
    data = manifest(body(client.get(download_link(page_of(client, order)))))
    assert data["counts"]["by_country"].keys() == {"FR", "BE"} and data["coverage"]["codes"] == ["BE", "FR"]


def test_a_device_without_coverage_setup_shows_why_and_refuses_changes(client, lea, release):
    order = paid_order(lea, device="sygic-android", coverage=["world"])
    page = page_of(client, order)
    assert "Sygic loads one offline camera database" in page and 'id="coverage-setup"' not in page
    response = client.get(reverse("panel-coverage-size", args=[order.public_id]), {"codes": ["FR"]})
    assert response.status_code == 409 and "default coverage only" in response.json()["error"]
    client.post(reverse("panel-coverage", args=[order.public_id]), {"codes": ["FR"]})
    order.refresh_from_db()
    assert order.coverage == ["world"]


# ---------------------------------------------------------------------------------------
# France icons


def test_a_device_that_can_swap_icons_saves_the_danger_set_for_the_next_file(client, lea, release, eager_raising,
                                                                            django_capture_on_commit_callbacks):
    order = built(paid_order(lea), django_capture_on_commit_callbacks, client)
    assert 'name="icons" value="fr-danger"' in page_of(client, order)
    client.post(reverse("panel-icons", args=[order.public_id]), {"icons": "fr-danger"})
    order.refresh_from_db()
    assert order.icons == "fr-danger"
    order = built(order, django_capture_on_commit_callbacks, client)
    data = manifest(body(client.get(download_link(page_of(client, order)))))
    assert data["options"]["icons"] == "fr-danger"


def test_a_device_that_cannot_swap_icons_says_why_and_keeps_the_speed_set(client, lea, release):
    order = paid_order(lea, device="igo-primo")
    page = page_of(client, order)
    assert 'name="icons"' not in page and "speed-limit icon is part of the map display" in page
    response = client.post(reverse("panel-icons", args=[order.public_id]), {"icons": "fr-danger"}, follow=True)
    assert "speed-limit icon is part of the map display" in response.content.decode()
    order.refresh_from_db()
    assert order.icons == "speed"


# ---------------------------------------------------------------------------------------
# another device


def test_adding_another_device_goes_to_its_page_with_the_email(client, lea, release):
    response = client.get(reverse("panel-add-device"), {"device": "garmin-nuvi"})
    assert response.status_code == 302 and response["Location"] == "/devices/garmin-nuvi/?email=lea%40example.com"
    assert client.get(reverse("panel-add-device"), {"device": "nokia"})["Location"] == "/#devices"
