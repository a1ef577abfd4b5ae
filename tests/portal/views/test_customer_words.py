"""What the customer reads, checked on the rendered pages and emails: names instead of the
codes an order stores, one count of cameras everywhere for the same coverage, money as
money, and device texts that do not contradict each other (over every catalog device)."""

import re
from html.parser import HTMLParser

import pytest
from django.core import mail
from django.urls import reverse

from cameras import regions
from exporters.devices import DATA_ONLY_FORMATS, DEVICES, WITHDRAWN
from portal.models import Order
from portal.services import fulfilment, links, naming
from portal.services.pricing import BASE_PRICES
from tests.portal.panelkit import customer
from tests.releases import demo_release

pytestmark = pytest.mark.django_db


class _Text(HTMLParser):
    """The text a reader sees: no tags, attributes, scripts or styles; table cells apart."""

    def __init__(self):
        super().__init__()
        self.parts, self.cells, self._skip, self._cell = [], [], 0, None

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "select", "option"):   # a select's options are choices, not statements
            self._skip += 1
        if tag == "td":
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("script", "style", "select", "option"):
            self._skip -= 1
        if tag == "td" and self._cell is not None:
            self.cells.append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)
            if self._cell is not None:
                self._cell.append(data)


def seen(html: str) -> tuple[str, list[str]]:
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split()), parser.cells


# The codes an order stores, which a customer must never read as such.
REGION_SLUGS = [slug for slug in regions.REGIONS if "-" in slug]
OPTION_CODES = {"speed", "fr-danger", "legal", "exact", "auto", "kmh", "mph", "europe", "western-europe", "FR", "DE"}


def internal_codes(html: str) -> list[str]:
    text, cells = seen(html)
    found = [slug for slug in REGION_SLUGS if re.search(rf"(?<![\w/-]){re.escape(slug)}(?![\w-])", text)]
    found += re.findall(r"(?<![\w/.-])(?:FR|DE|BE|NL|LU)(?![\w.-])", text)
    found += re.findall(r"(?<![/\w])fr-danger", text)   # not the package's folder icons/fr-danger
    found += [cell for cell in cells if cell in OPTION_CODES or re.fullmatch(r"[A-Z]{2}", cell)]
    return found


@pytest.fixture
def release(tmp_path):
    return demo_release(tmp_path, 600, 5)


def fulfilled(user, django_capture_on_commit_callbacks, **fields) -> Order:
    values = dict(email=user.email, device_id="tomtom-go-classic", coverage=["western-europe"], icons="fr-danger",
                  fr_zone_mode="legal", amount=BASE_PRICES["pnd"], status=Order.Status.PAID,
                  payment_intent=f"pi_{Order.objects.count() + 1}")
    values.update(fields)
    order = Order.objects.create(**values)
    with django_capture_on_commit_callbacks(execute=True):
        fulfilment.fulfil(order.pk)
    order.refresh_from_db()
    assert order.file_ready
    return order


def test_checkout_order_page_panel_report_and_emails_name_what_the_order_stores(client, release, eager,
                                                                              django_capture_on_commit_callbacks):
    user = customer("lea@example.com")
    pages = {"checkout": client.get(reverse("shop-checkout", args=["tomtom-go-classic"]),
                                    {"coverage": "western-europe", "icons": "fr-danger", "fr_zone_mode": "legal"})}
    order = fulfilled(user, django_capture_on_commit_callbacks)
    client.force_login(user)
    pages["order"] = client.get(reverse("shop-order", args=[order.public_id]))
    pages["panel"] = client.get(reverse("panel-order", args=[order.public_id]))
    pages["report"] = client.get(reverse("panel-report", args=[order.public_id]))
    pages["coverage"] = client.get(reverse("panel-coverage", args=[order.public_id]))
    for name, response in pages.items():
        assert response.status_code == 200, name
        html = response.content.decode()
        assert internal_codes(html) == [], name
    checkout = seen(pages["checkout"].content.decode())[0]
    assert "Western Europe" in checkout and "danger signs" in checkout and "danger zones" in checkout
    assert "Western Europe" in seen(pages["panel"].content.decode())[0]
    assert mail.outbox
    for message in mail.outbox:
        for body in (message.body, message.alternatives[0][0]):
            assert internal_codes(body) == [], (message.subject, body)
    file_mail = next(m for m in mail.outbox if "file" in m.subject.lower())
    assert f"Order {naming.order_number(order)}" in file_mail.body and "Western Europe" in file_mail.body


def camera_count(text: str) -> str:
    return re.search(r"[\d,]+ cameras?\b", text).group(0)


def test_the_same_coverage_shows_the_same_number_of_cameras_on_every_page_and_email(
        client, release, eager, django_capture_on_commit_callbacks):
    """A section is one camera: iGO writes two POIs for it, TomTom one; the customer reads the
    package's cameras on the device page, checkout, order page, panel and email alike."""
    answers = {device: client.get(reverse("shop-device-size", args=[device]),
                                  {"coverage": "FR", "fr_zone_mode": "exact"}).json()
               for device in ("tomtom-go-classic", "igo-primo")}
    assert answers["igo-primo"]["pois"] != answers["tomtom-go-classic"]["pois"]   # the fixture has a section
    expected = answers["tomtom-go-classic"]["cameras_text"]
    assert answers["igo-primo"]["cameras_text"] == expected
    user = customer("omar@example.com")
    for device in ("tomtom-go-classic", "igo-primo"):
        checkout = client.get(reverse("shop-checkout", args=[device]), {"coverage": "FR", "fr_zone_mode": "exact"})
        assert camera_count(seen(checkout.content.decode())[0]) == expected, device
        mail.outbox.clear()
        order = fulfilled(user, django_capture_on_commit_callbacks, device_id=device, coverage=["FR"],
                          fr_zone_mode="exact", icons="speed")
        client.force_login(user)
        order_page = seen(client.get(reverse("shop-order", args=[order.public_id])).content.decode())[0]
        panel = seen(client.get(reverse("panel-order", args=[order.public_id])).content.decode())[0]
        file_mail = next(m for m in mail.outbox if "file" in m.subject.lower())
        assert [camera_count(t) for t in (order_page, panel, file_mail.body)] == [expected] * 3, device


@pytest.mark.parametrize("count, words", [(0, "0 cameras"), (1, "1 camera"), (2, "2 cameras"),
                                          (12345, "12,345 cameras")])
def test_counts_of_cameras_are_worded_singular_or_plural(count, words):
    assert naming.cameras(count) == words


# ---------------------------------------------------------------------------------------
# Device texts: derived from the device's capabilities, never contradicting each other

NO_ALERTS = ("no alerts by itself", "do not warn", "no alerts by default")
WARNS_BOTH_WAYS = "warns in both directions"
DIRECTION_AWARE = "direction-aware alerts: the device warns only"


def contradictions(device, text: str) -> list[str]:
    low = text.lower()
    found = []
    if re.search(r"\b(\w+) \1\b", device.name, re.IGNORECASE):
        found.append(f"a word twice in the name {device.name!r}")
    says_silent = any(phrase in low for phrase in NO_ALERTS)
    if says_silent and WARNS_BOTH_WAYS in low:
        found.append("says it does not warn and that it warns in both directions")
    if says_silent and DIRECTION_AWARE in low:
        found.append("says it does not warn and promises direction-aware alerts")
    if DIRECTION_AWARE in low and (not device.exporter().direction_aware or device.format in DATA_ONLY_FORMATS):
        found.append("promises direction-aware alerts the format cannot give")
    if DIRECTION_AWARE in low and WARNS_BOTH_WAYS in low:
        found.append("direction-aware and warning both ways")
    return found


@pytest.mark.parametrize("device", DEVICES, ids=lambda d: d.id)
def test_no_device_page_contradicts_itself(client, release, device):
    response = client.get(reverse("shop-device", args=[device.id]))
    text = seen(response.content.decode())[0]
    assert contradictions(device, text) == []
    assert "cents" not in text
    if device.mobile:
        assert re.search(r"\(\+€\d+\.\d\d\)", text)   # the mobile option priced as money


@pytest.mark.parametrize("device", WITHDRAWN, ids=lambda d: d.id)
def test_no_withdrawn_device_text_contradicts_itself(device):
    """Withdrawn devices have no page, but their old orders' packages carry the same words."""
    text = " ".join([device.name, device.alerts, device.direction_alerts, *device.install, *device.notes])
    assert contradictions(device, text) == []


def test_navitel_is_named_once_and_data_files_promise_no_alerts():
    by_id = {d.id: d for d in DEVICES}
    assert by_id["navitel"].name == "Navitel Navigator (app and PNDs)"
    assert by_id["prestigio-geovision"].name == "Prestigio GeoVision (Navitel)"
    for device_id in ("generic-csv", "generic-geojson"):
        assert "No alerts by itself" in by_id[device_id].direction_alerts
    for device_id in ("phone-kml", "osmand-gpx"):
        assert WARNS_BOTH_WAYS not in by_id[device_id].direction_alerts


def test_the_order_link_opens_the_order_page_with_its_names(client, release, eager, django_capture_on_commit_callbacks):
    order = fulfilled(customer("ines@example.com"), django_capture_on_commit_callbacks)
    page = client.get(links.order_url(order)).content.decode()
    assert internal_codes(page) == [] and "Western Europe" in seen(page)[0]
