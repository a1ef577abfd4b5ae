"""services.purchases on its own, without the panel's views: the latest file of a purchase
(from the package store, or one queued build), update periods that ended, coverage and icon
changes the panel refuses or saves, what changed between two releases in the customer's
coverage, recorded downloads. The views' side: tests/portal/views/test_panel.py."""

from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.utils import timezone

from cameras.coverage import CoverageError
from portal.models import Download, Order
from portal.services import l10n, purchases
from portal.services.packages import ensure_package, order_spec
from portal.services.purchases import BUILD_QUEUE_TTL, PanelError

from tests.portal.panelkit import first_release, next_release, paid_order

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh(settings):
    """One-time purchases include a year of updates; no build is remembered as queued from
    another test (the queue's once-per-TTL mark lives in the cache)."""
    settings.UPDATE_MONTHS = 12
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def queued(monkeypatch):
    """The order ids whose package build was queued (nothing reaches a worker)."""
    calls = []
    monkeypatch.setattr("portal.services.queue.build_order_package", calls.append)
    return calls


def in_store(order, release):
    """Build the order's package of ``release`` into the store, as a worker would."""
    return ensure_package(*order_spec(order), release=release)


def with_file(order, release):
    """The order as fulfilled with its package of ``release``."""
    package = in_store(order, release)
    Order.objects.filter(pk=order.pk).update(package_key=package.key, release=release,
                                             package_bytes=package.size)
    order.refresh_from_db()
    return order


# ---------------------------------------------------------------------------------------
# the latest file


def test_the_latest_release_is_offered_at_once_when_the_store_holds_its_package(owner_order, release, queued):
    package = in_store(owner_order, release)
    state = purchases.file_state(owner_order)
    assert state.file.key == package.key and state.file.path.read_bytes() == package.path.read_bytes()
    assert state.file.filename == f"speedcams-tomtom-go-classic-r{release.number}.zip"
    assert state.current and not state.building and not state.error
    assert queued == []                                               # nothing to build
    owner_order.refresh_from_db()                                     # recorded on the order
    assert (owner_order.package_key, owner_order.release) == (package.key, release)
    assert owner_order.package_bytes == package.size


def test_a_file_missing_from_the_store_is_queued_once_per_build_queue_ttl(owner_order, release, queued, local_cache):
    state = purchases.file_state(owner_order)
    assert state.building and state.file is None and state.latest_release == release
    assert queued == [owner_order.pk]
    purchases.file_state(owner_order)                                 # the panel polls
    purchases.file_state(owner_order)
    assert queued == [owner_order.pk]
    with time_machine.travel(timezone.now() + timedelta(seconds=BUILD_QUEUE_TTL - 30)):
        purchases.file_state(owner_order)
    assert queued == [owner_order.pk]
    with time_machine.travel(timezone.now() + timedelta(seconds=BUILD_QUEUE_TTL + 5)):
        purchases.file_state(owner_order)
    assert queued == [owner_order.pk, owner_order.pk]                 # queued again once the mark lapsed


def test_a_state_read_without_queueing_queues_nothing(owner_order, release, queued):
    assert purchases.file_state(owner_order, queue=False).building
    assert queued == []


def test_the_previous_file_stays_downloadable_while_the_new_one_is_built(owner, tmp_path, queued):
    first = first_release(tmp_path)
    order = with_file(paid_order(owner), first)
    second, _ = next_release({"FR": {"added": 2}})
    state = purchases.file_state(order)
    assert state.building and state.file.release == first and state.latest_release == second
    assert not state.current and queued == [order.pk]


def test_an_order_whose_updates_ended_keeps_its_last_file_and_is_offered_no_new_release(owner, tmp_path, queued):
    paid = timezone.now() - timedelta(days=400)
    with time_machine.travel(paid - timedelta(hours=1)):
        first = first_release(tmp_path)
    order = with_file(paid_order(owner, paid_at=paid), first)
    second, _ = next_release({"FR": {"added": 2}})
    in_store(order, second)                 # even a package of the new release in the store is not offered
    state = purchases.file_state(order)
    assert not state.updates.active
    assert state.file.release == first and state.file.key == order.package_key
    assert state.latest_release == second and not state.current
    assert not state.building and queued == []
    assert state.compared_release == first  # "what changed" is about the file the customer has
    order.refresh_from_db()
    assert order.release == first
    assert purchases.editable(order).startswith(f"Your updates ended on {l10n.date(state.updates.until)}")


# ---------------------------------------------------------------------------------------
# coverage and icons


@pytest.mark.parametrize("codes, reason", [([], "choose at least one country or region"),
                                           (["", "  "], "choose at least one country or region"),
                                           (["Atlantis"], "unknown country or region 'Atlantis'")],
                         ids=["empty", "blank", "unknown"])
def test_an_empty_or_unknown_coverage_is_refused_with_the_reason_and_the_order_keeps_its_own(
        owner_order, codes, reason):
    with pytest.raises(CoverageError, match=reason) as refused:
        purchases.save_coverage(owner_order, codes)
    assert purchases.coverage_error(refused.value).startswith(reason)     # what the panel shows
    owner_order.refresh_from_db()
    assert owner_order.coverage == ["FR"]


def test_a_valid_coverage_is_saved_and_the_next_file_is_built_for_it(owner_order, release):
    Order.objects.filter(pk=owner_order.pk).update(package_error="the last build failed")
    before = purchases.wanted_key(owner_order, release)
    saved = purchases.save_coverage(owner_order, [" fr", "BE "])
    assert saved.coverage == ["BE", "FR"] and saved.package_error == ""
    owner_order.refresh_from_db()
    assert owner_order.coverage == ["BE", "FR"] and owner_order.package_error == ""
    assert purchases.wanted_key(owner_order, release) != before
    assert purchases.describe_coverage(owner_order.coverage) == "Belgium, France"


def test_a_device_without_coverage_setup_refuses_any_coverage(owner):
    order = paid_order(owner, device="sygic-android", coverage=["world"])
    with pytest.raises(PanelError, match="takes the default coverage only"):
        purchases.save_coverage(order, ["FR"])
    order.refresh_from_db()
    assert order.coverage == ["world"]


def test_an_unknown_icon_set_is_refused_with_the_sets_to_choose_from(owner_order):
    with pytest.raises(PanelError, match=r"unknown icon set 'pirate'; choose one of: speed, fr-danger"):
        purchases.save_icons(owner_order, "pirate")
    owner_order.refresh_from_db()
    assert owner_order.icons == "speed"


def test_the_danger_icon_set_is_saved_for_a_device_that_can_swap_icons(owner_order):
    assert purchases.save_icons(owner_order, "fr-danger").icons == "fr-danger"
    owner_order.refresh_from_db()
    assert owner_order.icons == "fr-danger"


def test_an_order_in_its_update_period_can_be_edited(owner_order):
    assert purchases.editable(owner_order) == ""


@pytest.mark.parametrize("status", [Order.Status.REFUNDED, Order.Status.PENDING])
def test_a_refunded_or_unpaid_order_cannot_be_edited_and_says_why(owner, status):
    if status == Order.Status.REFUNDED:
        order = paid_order(owner, status=status, refunded_at=timezone.now())
    else:
        order = paid_order(owner, status=status, paid_at=None, fulfilled_at=None)
    why = purchases.editable(order)
    assert "the coverage and icons of this purchase cannot change" in why
    with pytest.raises(PanelError) as coverage_refused:
        purchases.save_coverage(order, ["BE"])
    with pytest.raises(PanelError) as icons_refused:
        purchases.save_icons(order, "fr-danger")
    assert str(coverage_refused.value) == str(icons_refused.value) == why
    order.refresh_from_db()
    assert order.coverage == ["FR"] and order.icons == "speed"


# ---------------------------------------------------------------------------------------
# what changed, and recorded downloads


def test_what_changed_between_two_releases_lists_the_cameras_added_and_removed_in_the_coverage(
        owner, release):
    order = paid_order(owner)                       # bought once the first release was out
    second, touched = next_release({"FR": {"added": 2, "removed": 1}, "DE": {"added": 3, "removed": 2}})
    changes = purchases.changes(order, second)
    assert (changes.since, changes.current) == (release, second)
    assert "with your purchase" in changes.since_label
    assert (changes.added, changes.removed, changes.moved) == (2, 1, 0) and changes.any
    assert changes.by_country == {"FR": {"added": 2, "removed": 1, "moved": 0}}     # Germany is not covered
    assert sorted(c["id"] for c in changes.samples["added"]) == sorted(touched["added"][:2])
    assert [c["id"] for c in changes.samples["removed"]] == touched["removed"][:1]
    assert all(c["country"] == "FR" for kind in ("added", "removed") for c in changes.samples[kind])
    same = purchases.changes(order, release)
    assert same.same_release and not same.any


def test_a_download_is_recorded_with_the_release_its_file_was_built_from(owner_order, tmp_path):
    first = first_release(tmp_path)
    order = with_file(owner_order, first)
    download = purchases.record_download(order, order.package_key, first.number)
    assert Download.objects.get() == download
    assert (download.release, download.package_key, download.via) == (first, order.package_key, "panel")
    assert purchases.record_download(order, order.package_key, first.number, via="email").via == "email"
    assert purchases.record_download(order, order.package_key, first.number + 99).release is None
    # the next "what changed" counts from the release last downloaded
    second, _ = next_release({"FR": {"added": 1}})
    purchases.record_download(order, order.package_key, second.number)
    since, label = purchases.baseline(order)
    assert since == second and label.startswith("your last download")


def test_a_customer_owns_only_their_own_paid_orders(owner, owner_order, outsider_order):
    refunded = paid_order(owner, device="garmin-nuvi", status=Order.Status.REFUNDED)
    assert purchases.owned_order(owner, owner_order.public_id) == owner_order
    assert purchases.owned_order(owner, outsider_order.public_id) is None
    assert purchases.owned_order(owner, refunded.public_id) is None
    assert purchases.purchases(owner) == [owner_order]
