"""Orders from payment to delivery (services.fulfilment): each step once, whoever calls it
(the webhook, the success page, a replayed event), on the order's locked row."""

import pytest
from django.db.models.query import QuerySet
from django.urls import reverse

from portal import tasks
from portal.models import EmailRecord, Order, User
from portal.services import fulfilment
from portal.services.pricing import BASE_PRICES

pytestmark = pytest.mark.django_db


def pending_order(email="ana@example.com", **kw) -> Order:
    fields = dict(email=email, device_id="tomtom-go-classic", coverage=["FR"], amount=BASE_PRICES["pnd"],
                  payment_intent=f"pi_{email}")
    fields.update(kw)
    return Order.objects.create(**fields)


@pytest.fixture
def builds(monkeypatch):
    """The package builds sent to the broker (order ids), instead of sending them."""
    queued = []
    monkeypatch.setattr(tasks.build_order_package, "delay", lambda order_id: queued.append(order_id))
    return queued


def email_kinds(order) -> list[str]:
    return sorted(EmailRecord.objects.filter(order=order).values_list("kind", flat=True))


def test_a_payment_confirmed_three_times_makes_one_account_one_set_of_emails_and_one_build(
        builds, django_capture_on_commit_callbacks):
    order = pending_order()
    with django_capture_on_commit_callbacks(execute=True):
        fulfilment.payment_succeeded(order.pk)     # the success page
        fulfilment.payment_succeeded(order.pk)     # the webhook
        fulfilment.fulfil(order.pk)                # a replayed event
    order.refresh_from_db()
    assert order.status == Order.Status.PAID and order.paid_at and order.fulfilled_at
    assert User.objects.count() == 1 and order.user.email == "ana@example.com"
    # the receipt (with the purchase's one invoice) is recorded at fulfilment like the delivery emails
    assert email_kinds(order) == [EmailRecord.Kind.ACCOUNT, EmailRecord.Kind.FILE, EmailRecord.Kind.RECEIPT]
    assert order.invoices.count() == 1
    assert builds == [order.pk]


def test_the_build_is_queued_when_the_payment_commits_not_before(builds, django_capture_on_commit_callbacks):
    order = pending_order()
    with django_capture_on_commit_callbacks(execute=True):
        fulfilment.payment_succeeded(order.pk)
        assert builds == []
    assert builds == [order.pk]


def test_a_new_email_gets_an_account_and_the_account_email(builds):
    order = pending_order(email="  Ana.New@Example.COM ")
    fulfilment.payment_succeeded(order.pk)
    user = User.objects.get()
    assert user.email == "ana.new@example.com" and not user.has_usable_password()
    records = EmailRecord.objects.filter(order=order)
    assert sorted(records.values_list("kind", flat=True)) == [EmailRecord.Kind.ACCOUNT, EmailRecord.Kind.FILE,
                                                              EmailRecord.Kind.RECEIPT]
    assert set(records.values_list("to", flat=True)) == {"ana.new@example.com"}
    assert not records.filter(sent_at__isnull=False).exists()   # recorded now, sent by the build


def test_an_existing_customer_gets_the_device_added_email_and_no_second_account(owner, owner_order, builds):
    order = pending_order(email=owner.email.upper(), device_id="garmin-nuvi")
    fulfilment.payment_succeeded(order.pk)
    order.refresh_from_db()
    assert order.user == owner and User.objects.count() == 1
    assert email_kinds(order) == [EmailRecord.Kind.DEVICE_ADDED, EmailRecord.Kind.FILE, EmailRecord.Kind.RECEIPT]
    assert list(owner.orders.order_by("pk")) == [owner_order, order]


def test_the_order_row_is_read_locked_by_every_step(builds, monkeypatch):
    reads = []
    real_get = QuerySet.get

    def spy(self, *args, **kwargs):
        if self.model is Order:
            reads.append(self.query.select_for_update)
        return real_get(self, *args, **kwargs)

    monkeypatch.setattr(QuerySet, "get", spy)
    order = pending_order()
    fulfilment.payment_succeeded(order.pk)
    fulfilment.payment_failed(order.pk, "late")
    fulfilment.refunded(order.pk)
    assert reads and all(reads), reads


def test_a_failed_payment_records_the_message_and_delivers_nothing(builds):
    order = pending_order()
    fulfilment.payment_failed(order.pk, "Your card was declined.")
    order.refresh_from_db()
    assert order.status == Order.Status.FAILED and order.failure_message == "Your card was declined."
    assert order.user is None and order.fulfilled_at is None
    assert User.objects.count() == 0 and EmailRecord.objects.count() == 0 and builds == []
    fulfilment.fulfil(order.pk)     # nothing to fulfil on an unpaid order
    assert User.objects.count() == 0 and builds == []


def test_a_failure_without_a_message_still_tells_the_customer_something(builds):
    order = fulfilment.payment_failed(pending_order().pk, "")
    assert order.failure_message == "the payment did not go through"


def test_a_failure_without_a_message_is_stored_in_the_customer_s_language(builds):
    """The order page shows the message as stored: it is stored in the order's language."""
    from django.utils import translation

    order = fulfilment.payment_failed(pending_order(language="fr").pk, "")
    with translation.override("fr"):
        french = translation.gettext("the payment did not go through")
    assert french != "the payment did not go through"
    assert order.failure_message == french


def test_a_late_failure_does_not_undo_a_paid_order(builds):
    order = pending_order()
    fulfilment.payment_succeeded(order.pk)
    fulfilment.payment_failed(order.pk, "Your card was declined.")
    order.refresh_from_db()
    assert order.status == Order.Status.PAID and order.failure_message == ""


def test_a_retried_payment_that_succeeds_clears_the_failure(builds):
    order = pending_order()
    fulfilment.payment_failed(order.pk, "Your card was declined.")
    fulfilment.payment_succeeded(order.pk)
    order.refresh_from_db()
    assert order.status == Order.Status.PAID and order.failure_message == "" and order.fulfilled_at


def test_a_refunded_order_can_no_longer_be_downloaded(client, release, eager, django_capture_on_commit_callbacks):
    order = pending_order()
    with django_capture_on_commit_callbacks(execute=True):
        fulfilment.payment_succeeded(order.pk)
    order.refresh_from_db()
    client.force_login(order.user)
    status_url = reverse("shop-order-status", args=[order.public_id])
    state = client.get(status_url).json()
    assert state["file_ready"] and client.get(state["download_url"]).status_code == 200

    fulfilment.refunded(order.pk)
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED and order.refunded_at
    assert client.get(state["download_url"]).status_code == 404
    after = client.get(status_url).json()
    assert after["paid"] is False and after["file_ready"] is False and after["download_url"] == ""
    assert client.get(reverse("panel-order", args=[order.public_id])).status_code == 404


def test_a_refund_recorded_twice_keeps_its_first_date(builds):
    order = pending_order()
    fulfilment.payment_succeeded(order.pk)
    first = fulfilment.refunded(order.pk).refunded_at
    assert fulfilment.refunded(order.pk).refunded_at == first


def test_a_refunded_order_stays_refunded_when_a_late_success_arrives(builds, django_capture_on_commit_callbacks):
    order = pending_order()
    fulfilment.refunded(order.pk)
    with django_capture_on_commit_callbacks(execute=True):
        result = fulfilment.payment_succeeded(order.pk)
    order.refresh_from_db()
    assert result.status == order.status == Order.Status.REFUNDED
    assert order.user is None and User.objects.count() == 0 and EmailRecord.objects.count() == 0 and builds == []
