"""Until when an order gets new releases (portal/services/entitlement.py): the rule for one
order and its query twin, which the fan-out and the reminders use, agree to the microsecond."""

import calendar
from datetime import datetime, timedelta, timezone as dt_timezone

import pytest
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st

from portal.models import Order
from portal.services.entitlement import add_months, entitled, entitled_orders, updates, updates_until

UTC = dt_timezone.utc
NOW = datetime(2026, 3, 15, 12, tzinfo=UTC)


def order(*, paid_at=NOW, status=Order.Status.PAID, **fields) -> Order:
    fields.setdefault("created_at", paid_at or NOW)
    return Order.objects.create(email="lea@example.com", device_id="generic-csv", coverage=["FR"], amount=1000,
                                status=status, paid_at=paid_at, **fields)


def rule_and_query(o: Order, now: datetime) -> tuple[bool, bool]:
    """What the panel says and what the jobs scanning every order find."""
    return entitled(o, now), entitled_orders(now).filter(pk=o.pk).exists()


# --------------------------------------------------------------------------- one-time purchases


@pytest.mark.django_db
def test_a_one_time_purchase_gets_updates_for_update_months_then_stops(settings):
    settings.UPDATE_MONTHS = 18
    o = order(paid_at=datetime(2025, 1, 10, 9, tzinfo=UTC))
    assert updates_until(o) == datetime(2026, 7, 10, 9, tzinfo=UTC)
    assert rule_and_query(o, datetime(2026, 7, 10, 8, 59, tzinfo=UTC)) == (True, True)
    assert rule_and_query(o, datetime(2026, 7, 10, 9, tzinfo=UTC)) == (False, False)


@pytest.mark.django_db
def test_a_purchase_on_the_31st_gets_updates_until_the_last_day_of_a_shorter_month(settings):
    settings.UPDATE_MONTHS = 13
    o = order(paid_at=datetime(2025, 1, 31, 18, tzinfo=UTC))
    assert updates_until(o) == datetime(2026, 2, 28, 18, tzinfo=UTC)
    assert rule_and_query(o, datetime(2026, 2, 28, 17, tzinfo=UTC)) == (True, True)
    assert rule_and_query(o, datetime(2026, 2, 28, 19, tzinfo=UTC)) == (False, False)


@pytest.mark.django_db
def test_on_the_last_day_of_a_month_the_time_of_day_decides_for_every_clamped_day(settings):
    """On 28 February at noon, purchases of 29, 30 and 31 January in the afternoon still get
    updates, those of the same days in the morning no longer do."""
    settings.UPDATE_MONTHS = 1
    now = datetime(2026, 2, 28, 12, tzinfo=UTC)
    for day in (28, 29, 30, 31):
        assert rule_and_query(order(paid_at=datetime(2026, 1, day, 13, tzinfo=UTC)), now) == (True, True)
        assert rule_and_query(order(paid_at=datetime(2026, 1, day, 11, tzinfo=UTC)), now) == (False, False)
    assert rule_and_query(order(paid_at=datetime(2026, 1, 27, 13, tzinfo=UTC)), now) == (False, False)


@pytest.mark.django_db
def test_a_paid_order_without_a_payment_date_counts_from_its_creation(settings):
    settings.UPDATE_MONTHS = 12
    o = order(paid_at=None, created_at=NOW - timedelta(days=30))
    assert updates_until(o) == add_months(NOW - timedelta(days=30), 12)
    assert rule_and_query(o, NOW) == (True, True)


# --------------------------------------------------------------------------- annual subscriptions


@pytest.mark.django_db
@pytest.mark.parametrize("status", ["active", "canceled"])
def test_a_running_subscription_gets_updates_until_its_end(settings, status):
    settings.UPDATE_MONTHS = 12
    end = NOW + timedelta(days=30)
    o = order(paid_at=NOW - timedelta(days=700), plan="annual", subscription_status=status, subscription_end=end)
    assert updates(o, NOW).active and updates(o, NOW).until == end
    assert rule_and_query(o, NOW) == (True, True)
    assert rule_and_query(o, end) == (False, False)


@pytest.mark.django_db
def test_an_ended_subscription_gets_no_updates_even_before_its_end_date(settings):
    o = order(plan="annual", subscription_status="ended", subscription_end=NOW + timedelta(days=30))
    assert rule_and_query(o, NOW) == (False, False)


@pytest.mark.django_db
def test_an_upgraded_purchase_follows_its_subscription_not_its_one_time_period(settings):
    """With 24 months of updates, a purchase upgraded then ended after a year has no updates:
    the upgrade credited the one-time payment against the subscription."""
    settings.UPDATE_MONTHS = 24
    paid = NOW - timedelta(days=400)
    o = order(paid_at=paid, plan="annual", subscription_id="sub_1", subscription_status="ended",
              subscription_end=NOW - timedelta(days=30))
    assert updates(o, NOW).one_time_until > NOW   # what the purchase alone would have given
    assert updates_until(o) == NOW - timedelta(days=30)
    assert rule_and_query(o, NOW) == (False, False)


# --------------------------------------------------------------------------- never


@pytest.mark.django_db
@pytest.mark.parametrize("fields", [
    {"status": Order.Status.REFUNDED, "refunded_at": NOW},
    {"refunded_at": NOW},
    {"status": Order.Status.PENDING},
    {"status": Order.Status.FAILED},
    {"status": Order.Status.REFUNDED, "refunded_at": NOW, "plan": "annual", "subscription_status": "active",
     "subscription_end": NOW + timedelta(days=30)},
], ids=["refunded", "refund-recorded", "pending", "failed", "refunded-subscription"])
def test_refunded_and_unpaid_orders_never_get_updates(settings, fields):
    assert rule_and_query(order(**fields), NOW + timedelta(days=1)) == (False, False)


# --------------------------------------------------------------------------- the two agree


def near_month_end(year_from=2023, year_to=2027):
    """Instants on the first and the last days of months (where add_months clamps)."""
    def instant(y, m, d, seconds, us):
        day = min(d, calendar.monthrange(y, m)[1])
        return datetime(y, m, day, tzinfo=UTC) + timedelta(seconds=seconds, microseconds=us)

    return st.builds(instant, st.integers(year_from, year_to), st.integers(1, 12),
                     st.sampled_from([1, 2, 27, 28, 29, 30, 31, 31, 31]),
                     st.sampled_from([0, 43200, 86399]) | st.integers(0, 86399), st.sampled_from([0, 1, 999999]))


ORDER = st.fixed_dictionaries({
    "status": st.sampled_from([Order.Status.PAID] * 4 + [Order.Status.PENDING, Order.Status.FAILED,
                                                         Order.Status.REFUNDED]),
    "refunded": st.sampled_from([False, False, True]),
    "plan": st.sampled_from(["one-time", "one-time", "annual"]),
    "subscription_id": st.sampled_from(["", "sub_1"]),
    "subscription_status": st.sampled_from(["", "active", "canceled", "ended"]),
    "paid_at": st.none() | near_month_end(),
    "created_at": near_month_end(),
    "subscription_end": st.none() | near_month_end(),
})


@pytest.mark.django_db
@hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(months=st.integers(1, 24), specs=st.lists(ORDER, min_size=1, max_size=8), data=st.data())
def test_the_rule_and_the_query_agree_on_every_order(settings, months, specs, data):
    settings.UPDATE_MONTHS = months
    Order.objects.all().delete()
    orders = []
    for spec in specs:
        refunded = spec.pop("refunded")
        orders.append(order(refunded_at=spec["created_at"] if refunded else None, **spec))
    # now: anywhere, and right at every order's boundary (to the microsecond, and hours around it)
    shifts = [timedelta(0), timedelta(microseconds=-1), timedelta(microseconds=1), timedelta(hours=-5),
              timedelta(hours=5), data.draw(st.timedeltas(timedelta(days=-3), timedelta(days=3)), label="shift")]
    boundaries = [u for u in (updates_until(o) for o in orders) if u is not None]
    nows = [data.draw(near_month_end(2022, 2029), label="now")] + [at + shift for at in boundaries for shift in shifts]
    for now in nows:
        assert ({o.pk for o in orders if entitled(o, now)}
                == set(entitled_orders(now).values_list("pk", flat=True))), f"at {now}"
