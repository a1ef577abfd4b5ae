"""A backup with one damaged byte, in a package member or in the database dump, is refused by
the check and by the restore, and the restore changes nothing."""

import io
import tarfile

import pytest
from django.utils import timezone

from portal.models import Order, User
from portal.services import backup
from portal.services.pricing import BASE_PRICES

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-9"


# --------------------------------------------------------------------------- damaged backups


@pytest.fixture
def backed_up(tmp_path, settings):
    """A customer with a paid order and a package in the store, and a backup of it all."""
    settings.RELEASES_DIR = tmp_path / "releases"
    user = User.objects.create_user("lea@example.com", PASSWORD)
    Order.objects.create(email=user.email, user=user, device_id="tomtom-go-classic", coverage=["FR"],
                         amount=BASE_PRICES["pnd"], status=Order.Status.PAID, paid_at=timezone.now())
    package = settings.PACKAGES_DIR / "ab" / "speedcams-tomtom.zip"
    package.parent.mkdir(parents=True)
    package.write_bytes(bytes(range(256)) * 64)
    archive = tmp_path / "backups" / "full.tar"
    manifest = backup.make_backup(archive)
    return {"archive": archive, "package": package, "manifest": manifest}


def damaged_copy(archive, target, member_name):
    """A copy of the archive with one byte of ``member_name`` flipped (size unchanged)."""
    with tarfile.open(archive) as source, tarfile.open(target, "w") as out:
        for member in source:
            data = source.extractfile(member).read()
            if member.name == member_name:
                middle = len(data) // 2
                data = data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1:]
            out.addfile(member, io.BytesIO(data))
    return target


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("damaged", ["the package", "the database dump"])
def test_a_backup_with_one_damaged_byte_is_refused_and_the_restore_changes_nothing(backed_up, tmp_path, damaged):
    names = list(backed_up["manifest"]["files"])
    if damaged == "the package":
        [member] = [name for name in names if name.startswith("packages/")]
    else:
        [member] = [name for name in names if name in backup.DATABASE_MEMBERS.values()]
    broken = damaged_copy(backed_up["archive"], tmp_path / "damaged.tar", member)
    # What the restore would bring back is gone: the order and the package.
    Order.objects.all().delete()
    backed_up["package"].unlink()

    with pytest.raises(backup.BackupError, match=rf"{member} does not match its checksum; the archive is damaged"):
        backup.check_backup(broken)
    with pytest.raises(backup.BackupError, match=rf"{member} does not match its checksum"):
        backup.restore_backup(broken, force=True)
    assert Order.objects.count() == 0 and User.objects.count() == 1       # the database was not touched
    assert not backed_up["package"].exists()                              # nor the package store
    # The intact archive restores both.
    backup.restore_backup(backed_up["archive"], force=True)
    assert Order.objects.count() == 1 and backed_up["package"].read_bytes() == bytes(range(256)) * 64
