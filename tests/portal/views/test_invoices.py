"""Invoices where people get them: the panel's list and PDF link (the owner's only), the
checkout's billing country (validated, defaulted from the IP country, kept as evidence), and
for staff the admin's PDF and VAT report CSV and ``manage.py vat_report``."""

import uuid
import csv
import io
from datetime import datetime, timezone as dt_timezone

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from portal import tasks
from portal.models import Invoice, Order
from portal.services import fulfilment, geo, payments
from portal.services.pricing import BASE_PRICES
from tests.portal.invoicekit import figures, pdf_text
from tests.portal.panelkit import customer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_builds(monkeypatch):
    monkeypatch.setattr(tasks.build_order_package, "delay", lambda order_id: None)


def bought(user, country="FR", amount=BASE_PRICES["pnd"], **kw) -> Order:
    order = Order.objects.create(email=user.email, device_id="tomtom-go-classic", coverage=["FR"], amount=amount,
                                 billing_country=country, status=Order.Status.PAID, paid_at=timezone.now(), **kw)
    fulfilment.fulfil(order.pk)
    return order


def pdf_url(invoice) -> str:
    return reverse("invoices-pdf", args=[invoice.public_id])


# --------------------------------------------------------------------------- the panel


def test_the_owner_finds_the_invoice_in_the_panel_and_downloads_its_pdf(client, owner, outsider):
    invoice = bought(owner, "NL").invoices.get()
    bought(outsider)
    client.force_login(owner)
    page = client.get(reverse("panel-home")).content.decode()
    assert f'data-invoice="{invoice.number}"' in page and pdf_url(invoice) in page
    assert page.count("data-invoice=") == 1  # not the outsider's
    response = client.get(pdf_url(invoice))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{invoice.number}.pdf"'
    assert figures(pdf_text(response.content)) == {"number": invoice.number, "net": 1645, "vat": 345,
                                                   "total": 1990, "rate": "21"}


def test_another_customer_gets_404_and_a_visitor_the_login_page(client, owner, outsider):
    invoice = bought(owner).invoices.get()
    assert client.get(pdf_url(invoice)).status_code == 302
    assert reverse("accounts-login") in client.get(pdf_url(invoice))["Location"]
    client.force_login(outsider)
    assert client.get(pdf_url(invoice)).status_code == 404
    assert client.get(reverse("invoices-pdf", args=["8d5f6d8c-0000-4000-8000-000000000000"])).status_code == 404
    assert client.post(pdf_url(invoice)).status_code == 404  # the owner check comes before the method


def test_a_refunded_purchase_keeps_its_invoice_and_credit_note_in_the_panel(client, owner):
    order = bought(owner)
    fulfilment.refunded(order.pk)
    client.force_login(owner)
    page = client.get(reverse("panel-home")).content.decode()
    invoice, note = order.invoices.order_by("pk")
    assert f'data-invoice="{invoice.number}"' in page and f'data-invoice="{note.number}"' in page
    text = pdf_text(client.get(pdf_url(note)).content)
    assert figures(text)["total"] == -1990 and f"Credits invoice {invoice.number}" in text


# --------------------------------------------------------------------------- checkout


@pytest.fixture
def no_stripe(monkeypatch):
    monkeypatch.setattr(payments, "save_card", lambda order, token: "card_x")


def test_checkout_asks_the_billing_country_defaulting_to_the_ip_country(client, release, settings):
    settings.DEFAULT_BILLING_COUNTRY = "FR"
    page = client.get(reverse("shop-checkout", args=["tomtom-go-classic"])).content.decode()
    assert '<select name="billing_country"' in page and '<option value="FR" selected>France</option>' in page
    assert '<option value="DE">Germany</option>' in page and "VAT included" in page
    assert "outside the EU no VAT is charged" in page
    # a German address (the offline database) preselects Germany
    german = client.get(reverse("shop-checkout", args=["tomtom-go-classic"]), REMOTE_ADDR="85.214.132.117")
    assert '<option value="DE" selected>Germany</option>' in german.content.decode()


def test_the_billing_country_is_validated_and_kept_with_the_ip_country(client, release, no_stripe):
    bad = client.post(reverse("shop-checkout-start", args=["tomtom-go-classic"]),
                      {"email": "ana@example.com", "billing_country": "XX", "legal_ack": "on", "checkout": str(uuid.uuid4())})
    assert bad.status_code == 400
    assert bad.json()["errors"]["billing_country"] == [
        "XX is not a country in the list: choose your billing country in the list."]
    assert not Order.objects.exists()
    ok = client.post(reverse("shop-checkout-start", args=["tomtom-go-classic"]),
                     {"email": "ana@example.com", "billing_country": "PL", "legal_ack": "on", "checkout": str(uuid.uuid4())}, REMOTE_ADDR="85.214.132.117")
    assert ok.status_code == 200
    order = Order.objects.get()
    assert (order.billing_country, order.ip_country) == ("PL", "DE")


def test_without_the_field_the_order_takes_the_default_and_a_cdn_header_can_give_the_ip_country(
        client, release, no_stripe, settings):
    settings.IP_COUNTRY_HEADER = "HTTP_CF_IPCOUNTRY"
    settings.DEFAULT_BILLING_COUNTRY = "FR"
    client.post(reverse("shop-checkout-start", args=["tomtom-go-classic"]), {"email": "a@example.com", "legal_ack": "on", "checkout": str(uuid.uuid4())},
                HTTP_CF_IPCOUNTRY="it")
    client.post(reverse("shop-checkout-start", args=["tomtom-go-classic"]), {"email": "b@example.com", "legal_ack": "on", "checkout": str(uuid.uuid4())},
                HTTP_CF_IPCOUNTRY="XX")  # Cloudflare's "unknown"
    italy, unknown = Order.objects.order_by("pk")
    assert (italy.billing_country, italy.ip_country) == ("IT", "IT")
    assert (unknown.billing_country, unknown.ip_country) == ("FR", "")


def test_the_offline_ip_database_answers_without_the_network():
    assert geo.country_of_ip("85.214.132.117") == "DE"
    assert geo.country_of_ip("127.0.0.1") == "" and geo.country_of_ip("not an ip") == ""


# --------------------------------------------------------------------------- staff


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_superuser(email="staff@example.com", password="s" * 12)


def quarter_sales():
    """Sales in 2026Q4 (France twice, one refunded in part; Germany; Switzerland) and one in Q3."""
    buyer = customer("buyer@example.com")
    with time_machine.travel(datetime(2026, 9, 30, 12, tzinfo=dt_timezone.utc), tick=False):
        bought(buyer, "FR")
    with time_machine.travel(datetime(2026, 10, 2, 12, tzinfo=dt_timezone.utc), tick=False):
        fr = bought(buyer, "FR")
        bought(buyer, "FR", amount=2490)
        bought(buyer, "DE")
        bought(buyer, "CH")
    with time_machine.travel(datetime(2026, 11, 5, 12, tzinfo=dt_timezone.utc), tick=False):
        fulfilment.partially_refunded(fr.pk, 990)


def rows_of(text: str) -> dict:
    return {(r["quarter"], r["country"]): r for r in csv.DictReader(io.StringIO(text))}


def test_the_vat_report_command_sums_each_country_of_the_quarter():
    quarter_sales()
    out, err = io.StringIO(), io.StringIO()
    call_command("vat_report", quarter="2026Q4", stdout=out, stderr=err)
    rows = rows_of(out.getvalue())
    assert set(rows) == {("2026Q4", "FR"), ("2026Q4", "DE"), ("2026Q4", "CH")}
    fr = rows[("2026Q4", "FR")]
    # 19.90 + 24.90 - 9.90 (credit note): net 16.58 + 20.75 - 8.25, VAT 3.32 + 4.15 - 1.65
    assert (fr["invoices"], fr["credit_notes"], fr["vat_rate"], fr["in_eu"]) == ("2", "1", "20", "yes")
    assert (fr["net"], fr["vat"], fr["gross"]) == ("29.08", "5.82", "34.90")
    assert (rows[("2026Q4", "DE")]["vat"], rows[("2026Q4", "DE")]["net"]) == ("3.18", "16.72")
    ch = rows[("2026Q4", "CH")]
    assert (ch["vat_rate"], ch["vat"], ch["gross"], ch["in_eu"], ch["country_name"]) == ("0", "0.00", "19.90", "no",
                                                                                         "Switzerland")
    total = sum(int(inv.gross) for inv in Invoice.objects.filter(issued_at__gte=datetime(2026, 10, 1,
                                                                                        tzinfo=dt_timezone.utc)))
    assert sum(round(float(r["gross"]) * 100) for r in rows.values()) == total


def test_the_command_refuses_a_bad_quarter_with_what_to_write(tmp_path):
    with pytest.raises(CommandError, match="'2026-13' is not a quarter: write the year and the quarter, like 2026Q4"):
        call_command("vat_report", quarter="2026-13")
    out = tmp_path / "empty.csv"
    call_command("vat_report", quarter="2025Q1", output=str(out), stderr=io.StringIO())
    assert out.read_text().splitlines() == [",".join(["quarter", "country", "country_name", "in_eu", "vat_rate",
                                                       "currency", "invoices", "credit_notes", "net", "vat",
                                                       "gross"])]


def test_the_admin_lists_invoices_read_only_with_their_pdf_and_the_report_action(client, staff):
    quarter_sales()
    client.force_login(staff)
    changelist = reverse("admin:portal_invoice_changelist")
    page = client.get(changelist).content.decode()
    first = Invoice.objects.order_by("pk").first()
    assert first.number in page and "VAT report (CSV)" in page
    assert "Add invoice" not in page
    pdf = client.get(reverse("admin:portal_invoice_pdf", args=[first.pk]))
    assert figures(pdf_text(pdf.content))["number"] == first.number
    q4 = Invoice.objects.filter(issued_at__gte=datetime(2026, 10, 1, tzinfo=dt_timezone.utc))
    response = client.post(changelist, {"action": "vat_report", "_selected_action": [str(i.pk) for i in q4]})
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="vat-report-2026Q4.csv"'
    command = io.StringIO()
    call_command("vat_report", quarter="2026Q4", stdout=command, stderr=io.StringIO())
    assert response.content.decode() == command.getvalue()  # the same report both ways
    change = client.post(reverse("admin:portal_invoice_change", args=[first.pk]), {"gross": "1"})
    assert change.status_code in (302, 403) and Invoice.objects.get(pk=first.pk).gross == first.gross


def test_a_customer_cannot_reach_the_admins_pdf(client, owner):
    invoice = bought(owner).invoices.get()
    client.force_login(owner)
    response = client.get(reverse("admin:portal_invoice_pdf", args=[invoice.pk]))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
