"""services.packages: the content-addressed store (keys only, safe names), a combination
built once, and an order's package made of what the order bought."""

import pytest

from cameras.coverage import Coverage
from exporters.base import ExportOptions
from exporters.devices import get_device
from exporters.package import cache_key
from portal.services import packages

from tests.portal.panelkit import manifest, paid_order

KEY = "0123456789abcdef" * 4

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("key", [
    "../../etc/passwd", KEY.upper(), KEY[:-1], KEY + "0", KEY + "\n", "/" + KEY[1:], KEY[:-1] + "g", "",
    None, 12345,
])
def test_only_a_package_key_names_a_file_in_the_store(key):
    with pytest.raises(ValueError, match="not a package key"):
        packages.store_path(key)


def test_a_key_names_a_zip_inside_the_store(settings):
    path = packages.store_path(KEY)
    assert path == settings.PACKAGES_DIR / "01" / f"{KEY}.zip"


@pytest.mark.parametrize("device_id, release, name", [
    ("tomtom-go-classic", 7, "speedcams-tomtom-go-classic-r7.zip"),
    ("tomtom-go-classic", None, "speedcams-tomtom-go-classic.zip"),
    ("tomtom-go-classic", "", "speedcams-tomtom-go-classic.zip"),
    ('../../etc/"x"\r\nSet-Cookie: a=b', 3, "speedcams-etc-x-Set-Cookie-a-b-r3.zip"),
    (".hidden", "1/../2", "speedcams-hidden-r1-..-2.zip"),
    ("", None, "speedcams-device.zip"),
    ("ü" * 3, None, "speedcams-device.zip"),
    ("a" * 200, 1, f"speedcams-{'a' * 64}-r1.zip"),
])
def test_a_download_is_named_with_safe_characters_only(device_id, release, name):
    assert packages.download_filename(device_id, release) == name


def spec(device_id="tomtom-go-classic", coverage=("FR",), **options):
    return get_device(device_id), Coverage.parse(list(coverage)), ExportOptions(**options)


@pytest.fixture
def exports(monkeypatch):
    """The combinations actually exported (device id, coverage, options)."""
    made = []
    real = packages.export_package

    def counting(device, coverage, options, **kw):
        made.append((device.id, coverage.labels(), options.key()))
        return real(device, coverage, options, **kw)

    monkeypatch.setattr(packages, "export_package", counting)
    return made


def test_a_combination_is_built_once_and_then_served_from_the_store(release, exports):
    first = packages.ensure_package(*spec(mobile=True))
    data = first.path.read_bytes()
    second = packages.ensure_package(*spec(mobile=True))
    assert len(exports) == 1
    assert (second.key, second.path, second.path.read_bytes()) == (first.key, first.path, data)
    assert first.release == release and first.filename == f"speedcams-tomtom-go-classic-r{release.number}.zip"
    assert first.size == len(data) and data[:2] == b"PK"
    assert [p.name for p in first.path.parent.iterdir()] == [first.path.name]   # no temporary file left


def test_other_options_make_another_package(release, exports):
    with_mobile = packages.ensure_package(*spec(mobile=True))
    without = packages.ensure_package(*spec(mobile=False))
    germany = packages.ensure_package(*spec(coverage=("DE",), mobile=False))
    assert len({with_mobile.key, without.key, germany.key}) == 3 and len(exports) == 3


def test_an_orders_package_is_made_of_its_device_coverage_and_options(owner, release, exports):
    order = paid_order(owner, device="garmin-nuvi", coverage=("DE", "AT"), mobile=True)
    stored = packages.package_for_order(order)
    device = get_device("garmin-nuvi")
    options = ExportOptions(mobile=True, icons=order.icons)
    assert stored.key == cache_key(release.sha256, device, ["AT", "DE"], options)
    made = manifest(stored.path.read_bytes())
    assert made["device"]["id"] == "garmin-nuvi" and made["coverage"]["codes"] == ["AT", "DE"]
    assert made["options"]["mobile"] is True
    assert stored.filename == f"speedcams-garmin-nuvi-r{release.number}.zip"


def test_an_order_without_a_coverage_gets_its_devices_default(owner, release, exports):
    order = paid_order(owner, coverage=())
    stored = packages.package_for_order(order)
    assert manifest(stored.path.read_bytes())["coverage"]["codes"] == Coverage.parse(["europe-no-ch"]).labels()


def test_the_stored_package_of_an_order_is_found_only_while_it_is_in_the_store(owner, release):
    order = paid_order(owner)
    assert packages.stored_package(order) is None                 # not built yet
    built = packages.package_for_order(order)
    order.package_key, order.release = built.key, built.release
    found = packages.stored_package(order)
    assert (found.key, found.path, found.filename) == (built.key, built.path, built.filename)
    built.path.unlink()
    assert packages.stored_package(order) is None                 # removed from the store
