"""Backups: `manage.py backup` and `manage.py restore` bring back the database, the release
snapshots and the package store, checked byte for byte; a damaged or tricked archive changes
nothing. Runs on the suite's database (SQLite, then PostgreSQL with pg_dump/pg_restore)."""

import hashlib
import io
import json
import tarfile

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from cameras.models import Camera, CameraVersion, Release
from cameras.releases import load_snapshot, publish_release, snapshot_path
from portal.services.backup import read_manifest
from portal.models import Order, User
from portal.services.packages import package_for_order

from tests.portal.panelkit import PASSWORD, customer, first_release, paid_order

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shop(tmp_path, settings):
    settings.PACKAGES_DIR = tmp_path / "packages"
    release = first_release(tmp_path, cameras=300)
    Camera.objects.filter(pk__in=Camera.objects.values("pk")[:5]).update(speed=130)
    second = publish_release()
    lea = customer()
    order = paid_order(lea)
    stored = package_for_order(order)
    Order.objects.filter(pk=order.pk).update(package_key=stored.key, release=second)
    return {"releases": [release, second], "order": order, "package": stored}


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def wipe(shop):
    """A lost server: every row and every file gone."""
    Order.objects.all().delete()
    User.objects.all().delete()
    Release.objects.all().delete()
    CameraVersion.objects.all().delete()
    Camera.objects.all().delete()
    for release in shop["releases"]:
        path = snapshot_path(release)
        path.chmod(0o644)
        path.unlink()
    shop["package"].path.unlink()


def run(*args):
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_a_backup_restores_every_row_and_file_on_an_empty_server(shop, tmp_path):
    files = {r.number: digest(snapshot_path(r)) for r in shop["releases"]}
    package = digest(shop["package"].path)
    cameras = Camera.objects.count()
    archive = tmp_path / "backups" / "full.tar"
    said = run("backup", str(archive))
    assert "Backup written" in said and "2 release file(s), 1 package(s)" in said
    manifest = read_manifest(archive)
    assert manifest["counts"] == {"cameras": cameras, "releases": 2, "orders": 1, "customers": 1}

    wipe(shop)
    said = run("restore", str(archive))
    assert "1 orders" in said and "2 releases" in said

    assert Camera.objects.count() == cameras
    assert {r.number: digest(snapshot_path(r)) for r in Release.objects.all()} == files
    assert digest(shop["package"].path) == package
    order = Order.objects.get()
    assert (order.email, order.package_key) == ("lea@example.com", shop["package"].key)
    client = Client()
    assert client.login(email="lea@example.com", password=PASSWORD)  # the customer's password survives
    for release in Release.objects.all():
        load_snapshot(release, verify=True)


def test_a_backup_without_packages_gets_its_release_files_back_and_packages_rebuild_identically(shop, tmp_path):
    package = shop["package"].path.read_bytes()
    archive = tmp_path / "lean.tar"
    assert "0 package(s)" in run("backup", str(archive), "--without-packages")
    wipe(shop)
    run("restore", str(archive))
    assert not shop["package"].path.exists()
    rebuilt = package_for_order(Order.objects.get())
    assert rebuilt.path.read_bytes() == package


def test_a_missing_snapshot_in_the_archive_is_rebuilt_from_the_database(shop, tmp_path):
    first = shop["releases"][0]
    original = snapshot_path(first).read_bytes()
    snapshot_path(first).chmod(0o644)
    snapshot_path(first).unlink()  # lost before the backup was taken
    archive = tmp_path / "partial.tar"
    run("backup", str(archive))
    wipe({**shop, "releases": shop["releases"][1:]})
    assert "1 rebuilt from the database" in run("restore", str(archive))
    assert snapshot_path(first).read_bytes() == original


def test_restore_refuses_a_database_that_holds_data_unless_forced(shop, tmp_path):
    archive = tmp_path / "b.tar"
    run("backup", str(archive))
    Order.objects.all().delete()
    with pytest.raises(CommandError, match=r"already holds data \(.*cameras.*\).*--force"):
        run("restore", str(archive))
    assert Order.objects.count() == 0
    run("restore", str(archive), "--force")
    assert Order.objects.count() == 1


def rewrite(archive, target, change):
    """Copy ``archive`` to ``target`` passing each (TarInfo, bytes) through ``change``."""
    with tarfile.open(archive) as source, tarfile.open(target, "w") as out:
        for member in source:
            data = source.extractfile(member).read()
            for info, content in change(member, data):
                info.size = len(content)
                out.addfile(info, io.BytesIO(content))


def test_a_damaged_archive_is_refused_before_anything_changes(shop, tmp_path):
    archive, damaged = tmp_path / "b.tar", tmp_path / "damaged.tar"
    run("backup", str(archive))

    def flip(member, data):
        if member.name.startswith("releases/"):
            data = data[:100] + bytes([data[100] ^ 1]) + data[101:]
        yield member, data

    rewrite(archive, damaged, flip)
    Order.objects.all().delete()
    with pytest.raises(CommandError, match=r"releases/release-000001.parquet does not match its checksum"):
        run("restore", str(damaged), "--force")
    assert Order.objects.count() == 0  # the database was not touched
    with pytest.raises(CommandError, match="does not match its checksum"):
        run("restore", str(damaged), "--check")
    assert "complete and intact" in run("restore", str(archive), "--check")


def test_an_archive_with_a_path_trick_is_refused(shop, tmp_path):
    archive, tricked = tmp_path / "b.tar", tmp_path / "tricked.tar"
    run("backup", str(archive))
    escape = tmp_path / "escaped.txt"

    def add_escape(member, data):
        if member.name == "manifest.json":
            manifest = json.loads(data)
            manifest["files"]["packages/../../escaped.txt"] = {"size": 3, "sha256": hashlib.sha256(b"owned").hexdigest()}
            data = json.dumps(manifest).encode()
        yield member, data
        if member.name == "manifest.json":
            yield tarfile.TarInfo("packages/../../escaped.txt"), b"owned"

    rewrite(archive, tricked, add_escape)
    with pytest.raises(CommandError, match=r"'packages/../../escaped.txt' is not a plain file inside the archive"):
        run("restore", str(tricked), "--force")
    assert not escape.exists()


def test_restore_says_clearly_what_is_wrong_with_a_file_that_is_not_a_backup(tmp_path, db):
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"not a tar at all" * 100)
    with pytest.raises(CommandError, match="is not a backup archive.*manage.py backup FILE"):
        run("restore", str(junk))
    with pytest.raises(CommandError, match="no such backup file"):
        run("restore", str(tmp_path / "missing.tar"))
