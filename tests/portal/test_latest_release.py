"""The one ``latest_release`` (cameras.exporting) that the shop, the panel, the reminders,
the subscriptions' emails and the package builds all read."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from cameras.exporting import latest_release
from portal.services import purchases, reminders, subscriptions

from tests.portal.panelkit import customer, next_release, paid_order
from tests.releases import demo_release

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_releases(tmp_path, settings):
    settings.PACKAGES_DIR = tmp_path / "packages"
    with time_machine.travel(timezone.now() - timedelta(days=400)):
        first = demo_release(tmp_path, 300, seed=3)
    second, _ = next_release({"FR": {"added": 1}})
    return first, second


def test_with_no_release_the_pages_get_none_and_a_build_is_told_to_wait():
    assert latest_release(missing_ok=True) is None
    with pytest.raises(LookupError, match="no release has been published yet"):
        latest_release()


def test_the_latest_release_is_the_highest_number_with_or_without_its_changelog(two_releases):
    _first, second = two_releases
    full, light = latest_release(), latest_release(changelog=False)
    assert full.pk == light.pk == second.pk
    assert "changelog" not in full.get_deferred_fields() and "changelog" in light.get_deferred_fields()
    assert light.changelog == full.changelog          # read when asked for


def test_the_release_published_by_a_moment_is_the_one_a_purchase_then_got(two_releases):
    first, second = two_releases
    assert latest_release(published_by=first.created_at + timedelta(days=1)).pk == first.pk
    assert latest_release(published_by=first.created_at - timedelta(days=1), missing_ok=True) is None
    # the panel compares a purchase made between the two with the first one
    order = paid_order(customer(), paid_at=first.created_at + timedelta(days=1))
    assert purchases.baseline(order)[0].pk == first.pk
    assert purchases.file_state(order, queue=False).latest_release.pk == second.pk


def test_the_reminders_and_the_subscriptions_compare_files_with_the_latest_release(two_releases, settings):
    first, second = two_releases
    settings.STALE_FILE_DAYS = 30
    lea = customer()
    stale = paid_order(lea, paid_at=first.created_at, release=first, plan="annual", subscription_status="active",
                       subscription_end=timezone.now() + timedelta(days=100), email_new_releases=True)
    fresh = paid_order(lea, release=second)
    now = timezone.now()
    assert [order_id for order_id, _key in reminders.due_stale_files(now)] == [stale.pk]
    assert subscriptions.due_new_release_emails(now) == [(stale.pk, second.number)]
    assert fresh.pk not in [order_id for order_id, _key in reminders.due_stale_files(now)]
