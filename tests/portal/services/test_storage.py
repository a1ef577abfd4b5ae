"""The file store (cameras.storage) against a real S3 API (moto server mode, tests/s3.py) and
the local disk: atomic writes, one machine reading what another wrote, and the shop's flows --
publish, package build, panel and email downloads, backup and restore -- with the files in
the object store. "Another machine" is the same store seen with an empty cache and spool."""

import hashlib
import io
import tarfile
import threading
import urllib.request

import pytest
from django.core.management import call_command
from django.test import Client

from cameras.models import Camera, CameraVersion, Release
from cameras.releases import load_snapshot
from cameras.storage import get_store, parse_storage_url
from portal.models import Download, Order, User
from portal.services import links, packages
from portal.services.packages import ensure_package, order_spec, stored_package

from tests.portal.panelkit import body, customer, first_release, manifest, paid_order

_http = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def other_machine(settings, tmp_path, name="b"):
    """Forget this machine's local copies: the next reads come from the store."""
    settings.STORAGE_CACHE_DIR = tmp_path / f"cache-{name}"
    settings.STORAGE_SPOOL_DIR = tmp_path / f"spool-{name}"
    settings.RELEASES_DIR = tmp_path / f"releases-{name}"
    settings.PACKAGES_DIR = tmp_path / f"packages-{name}"


# --------------------------------------------------------------------------- the interface


def test_a_malformed_storage_url_says_what_to_write():
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match=r"use s3://BUCKET or s3://BUCKET/PREFIX"):
        parse_storage_url("https://bucket/prefix")
    assert parse_storage_url("s3://shop-files/prod/") == ("shop-files", "prod")


def test_a_name_outside_the_namespaces_is_refused(s3_store):
    for bad in ("../etc/passwd", "packages/../../x", "/releases/a", "media/a.zip", "packages"):
        with pytest.raises(ValueError, match="not a store name"):
            s3_store.exists(bad)


@pytest.mark.parametrize("backend", ["local", "s3"])
def test_a_file_is_written_read_listed_renamed_and_deleted_the_same_way_on_both_backends(
        backend, request, settings, tmp_path):
    store = request.getfixturevalue("s3_store") if backend == "s3" else get_store()
    settings.PACKAGES_DIR = tmp_path / "packages"
    store.save_bytes("packages/ab/one.zip", b"PK first")
    assert store.exists("packages/ab/one.zip") and not store.exists("packages/ab/two.zip")
    assert store.size("packages/ab/one.zip") == 8 and store.read_bytes("packages/ab/one.zip") == b"PK first"
    assert store.local_path("packages/ab/one.zip").read_bytes() == b"PK first"
    store.save_bytes("packages/ab/one.zip", b"PK second")  # replace: the new bytes whole
    assert store.read_bytes("packages/ab/one.zip") == b"PK second"
    with pytest.raises(FileExistsError):
        store.save_bytes("packages/ab/one.zip", b"never", replace=False)
    store.rename("packages/ab/one.zip", "packages/cd/two.zip")
    assert store.names("packages") == ["packages/cd/two.zip"]   # no temporary name left behind
    store.delete("packages/cd/two.zip")
    assert store.names("packages") == []
    with pytest.raises(FileNotFoundError):
        store.open("packages/cd/two.zip")


def test_an_upload_that_fails_before_the_copy_leaves_neither_the_file_nor_a_temporary_key(s3_store, monkeypatch):
    client = s3_store.client

    def broken_copy(*args, **kwargs):
        raise ConnectionError("store went away")

    monkeypatch.setattr(client, "copy", broken_copy)
    with pytest.raises(ConnectionError):
        s3_store.save_bytes("packages/ab/half.zip", b"x" * 1000)
    monkeypatch.undo()
    listed = client.list_objects_v2(Bucket=s3_store.bucket_name).get("Contents", [])
    assert listed == []
    assert not s3_store.exists("packages/ab/half.zip")


# --------------------------------------------------------------------------- the shop's flows on S3


@pytest.mark.django_db
def test_a_snapshot_published_on_one_machine_is_read_on_another_and_checked(s3_store, settings, tmp_path):
    release = first_release(tmp_path, cameras=200)
    assert s3_store.exists(f"releases/{release.snapshot}")
    assert not (tmp_path / "releases").exists() or not list((tmp_path / "releases").glob("*.parquet"))
    here = load_snapshot(release, verify=True)
    other_machine(settings, tmp_path)
    there = load_snapshot(release, verify=True)
    assert there.column("id").equals(here.column("id")) and there.num_rows == 200
    fetched = tmp_path / "cache-b" / "releases" / release.snapshot   # fetched once, kept
    assert hashlib.sha256(fetched.read_bytes()).hexdigest() == release.sha256


@pytest.mark.django_db
def test_a_corrupt_local_copy_is_fetched_again_from_the_store(s3_store, settings, tmp_path):
    release = first_release(tmp_path, cameras=50)
    cached = tmp_path / "s3-cache" / "releases" / release.snapshot
    cached.write_bytes(b"damaged")
    assert load_snapshot(release, verify=True).num_rows == 50
    assert hashlib.sha256(cached.read_bytes()).hexdigest() == release.sha256


@pytest.mark.django_db
def test_a_package_built_on_one_machine_is_found_on_another_without_building_it_again(
        s3_store, settings, tmp_path, monkeypatch):
    release = first_release(tmp_path, cameras=200)
    order = paid_order(customer())
    built = ensure_package(*order_spec(order), release=release)
    other_machine(settings, tmp_path)

    def no_build(*args, **kwargs):
        raise AssertionError("the package was built again")

    monkeypatch.setattr(packages, "export_package", no_build)
    found = ensure_package(*order_spec(order), release=release)
    assert found.key == built.key and found.read_bytes() == built.read_bytes()
    assert manifest(found.read_bytes())["device"]["id"] == "tomtom-go-classic"


@pytest.fixture
def fulfilled(s3_store, settings, tmp_path):
    """A paid order whose package a worker built into the store; the web node is another machine."""
    release = first_release(tmp_path, cameras=200)
    order = paid_order(customer("owner@example.com"))
    package = ensure_package(*order_spec(order), release=release)
    Order.objects.filter(pk=order.pk).update(package_key=package.key, release=release, package_bytes=package.size)
    order.refresh_from_db()
    other_machine(settings, tmp_path, "web")
    return order, package.read_bytes()


@pytest.mark.django_db
def test_the_panel_download_redirects_its_owner_to_a_short_lived_url_of_the_file(fulfilled, settings):
    order, data = fulfilled
    settings.STORAGE_DOWNLOADS = "redirect"
    client = Client()
    client.force_login(order.user)
    url = links.panel_url(order, stored_package(order))
    response = client.get(url)
    assert response.status_code == 302 and "no-cache" in response["Cache-Control"]
    target = response["Location"]
    assert target.startswith(settings.AWS_S3_ENDPOINT_URL) and "X-Amz-Expires=60" in target
    with _http.open(target, timeout=10) as fetched:
        assert fetched.read() == data
        assert f'filename="speedcams-tomtom-go-classic-r{order.release.number}.zip"' in \
            fetched.headers["Content-Disposition"]
    assert Download.objects.filter(order=order, via="panel").count() == 1

    outsider = Client()
    outsider.force_login(customer("outsider@example.com"))
    assert outsider.get(url).status_code == 404


@pytest.mark.django_db
def test_the_threads_of_a_web_node_share_one_client_whose_links_work(fulfilled):
    """One boto3 client per process: a client per thread (django-storages' own) loaded the S3
    service model again on each new thread's first download, a few hundred ms."""
    order, data = fulfilled
    store, name = get_store(), packages.store_name(order.package_key)
    clients, urls = [], []

    def sign():
        clients.append(store.client)
        urls.append(store.download_url(name, "speedcams-x-r1.zip"))

    threads = [threading.Thread(target=sign) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(urls) == 4 and all(client is store.client for client in clients)
    for url in urls:
        with _http.open(url, timeout=10) as fetched:
            assert fetched.read() == data
            assert fetched.headers["Content-Disposition"] == 'attachment; filename="speedcams-x-r1.zip"'


@pytest.mark.django_db
def test_the_email_link_streams_the_file_from_the_store_when_downloads_stream(fulfilled, settings):
    order, data = fulfilled
    settings.STORAGE_DOWNLOADS = "stream"
    response = Client().get(links.download_url(order, order.package_key))
    assert response.status_code == 200 and int(response["Content-Length"]) == len(data)
    assert body(response) == data
    assert Download.objects.filter(order=order, via="email").count() == 1


@pytest.mark.django_db
def test_a_package_gone_from_the_store_sends_the_owner_back_to_the_panel(fulfilled, settings):
    order, _data = fulfilled
    get_store().delete(packages.store_name(order.package_key))
    client = Client()
    client.force_login(order.user)
    response = client.get(links.panel_url(order, packages.StoredPackage(order.package_key, order.release, "x.zip")))
    assert response.status_code == 302 and response["Location"].endswith(f"/{order.public_id}/")
    assert Client().get(links.download_url(order, order.package_key)).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_a_backup_in_the_store_is_restored_on_another_machine(s3_store, settings, tmp_path):
    release = first_release(tmp_path, cameras=200)
    order = paid_order(customer())
    package = ensure_package(*order_spec(order), release=release)
    Order.objects.filter(pk=order.pk).update(package_key=package.key, release=release)
    data = package.read_bytes()
    call_command("backup", "store:nightly.tar", stdout=io.StringIO())
    assert s3_store.exists("backups/nightly.tar")
    with s3_store.as_file("backups/nightly.tar") as archive, tarfile.open(archive) as tar:
        assert {f"releases/{release.snapshot}", f"packages/{package.key[:2]}/{package.key}.zip"} <= set(tar.getnames())

    # the machine is lost: its rows, and the files in the store
    Order.objects.all().delete()
    User.objects.all().delete()
    Release.objects.all().delete()
    CameraVersion.objects.all().delete()
    Camera.objects.all().delete()
    s3_store.delete(f"releases/{release.snapshot}")
    s3_store.delete(packages.store_name(package.key))
    other_machine(settings, tmp_path)

    out = io.StringIO()
    call_command("restore", "store:nightly.tar", stdout=out)
    assert "Restored store:nightly.tar" in out.getvalue()
    restored = Release.objects.get()
    assert load_snapshot(restored, verify=True).num_rows == 200
    assert s3_store.read_bytes(packages.store_name(package.key)) == data
    assert Order.objects.get().package_key == package.key


@pytest.mark.django_db
def test_a_missing_backup_in_the_store_is_a_clear_error(s3_store):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="the store holds no backup backups/nope.tar"):
        call_command("restore", "store:nope.tar", "--check", stdout=io.StringIO())
