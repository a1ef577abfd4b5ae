"""Backups: the database, the release snapshots and the package store in one checked archive.

``make_backup(path)`` writes a tar archive:

    manifest.json        what is inside: engine, migrations, row counts, every member's
                         size and sha256
    database.sqlite3     SQLite: a consistent copy made with SQLite's online backup API
    database.pgdump      PostgreSQL: ``pg_dump --format=custom`` (one consistent snapshot)
    releases/...         every release snapshot file (RELEASES_DIR)
    packages/...         the package store (PACKAGES_DIR), unless ``packages=False``: its
                         packages can all be rebuilt, byte-identical, from the database

The archive is written under a temporary name and renamed when complete, so a backup that
fails half-way never looks like a good one. The files come from the file store
(``cameras.storage``, local or the shared object store) and go back into it. A path
``store:NAME`` is the archive ``backups/NAME`` in the store: with an object store, a backup
made on one machine can be restored on any other.

``restore_backup(path)`` first checks every member against the manifest (and refuses names
that would land outside their folder) before it changes anything; it refuses a database that
already holds data unless ``force=True``. Then it restores the database in one step (SQLite's
backup API; ``pg_restore --clean --single-transaction``), applies any newer migrations, and
puts the files back (atomically, never leaving half a file). Finally every release's
snapshot is checked against its recorded sha256; a snapshot the archive lacks is rebuilt
from the database's release history where it can be.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.core.management import call_command
from django.db import connection, connections
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone
from tqdm import tqdm

from cameras.models import Camera, Release
from cameras.releases import SnapshotError, load_snapshot, restore_snapshot
from cameras.storage import get_store
from portal.models import Order, User

FORMAT = 1
CHUNK = 1 << 20
DATABASE_MEMBERS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
FILE_ROOTS = ("releases", "packages")


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says what and how to fix it."""


def _engine() -> str:
    vendor = connection.vendor
    if vendor not in DATABASE_MEMBERS:
        raise BackupError(f"backups support SQLite and PostgreSQL, not {vendor}")
    return vendor


STORE_PREFIX = "store:"


def _store_backup_name(path) -> str | None:
    """``backups/NAME`` for a path ``store:NAME``, else None (a local file)."""
    text = str(path)
    if not text.startswith(STORE_PREFIX):
        return None
    name = text[len(STORE_PREFIX):]
    if not name or "/" in name or name.startswith("."):
        raise BackupError(f"{text}: name the archive in the store as store:NAME (no folder, no leading dot)")
    return f"backups/{name}"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _counts() -> dict[str, int]:
    return {"cameras": Camera.objects.count(), "releases": Release.objects.count(),
            "orders": Order.objects.count(), "customers": User.objects.count()}


def _migrations() -> dict[str, str]:
    latest = {}
    for app, name in MigrationRecorder(connection).applied_migrations():
        latest[app] = max(latest.get(app, ""), name)
    return dict(sorted(latest.items()))


# --------------------------------------------------------------------------- database


def _pg_env() -> tuple[list[str], dict[str, str]]:
    db = settings.DATABASES["default"]
    args = ["--dbname", db["NAME"]]
    if db.get("HOST"):
        args += ["--host", str(db["HOST"])]
    if db.get("PORT"):
        args += ["--port", str(db["PORT"])]
    if db.get("USER"):
        args += ["--username", str(db["USER"])]
    env = {**os.environ}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return args, env


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed; it is needed to {what} "
                          "(Debian: apt-get install postgresql-client)")
    done = subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed to {what} (exit {done.returncode}): {done.stderr.strip()[-2000:]}")


def _dump_database(engine: str, target: Path) -> None:
    if engine == "sqlite":
        connection.ensure_connection()
        destination = sqlite3.connect(target)
        try:
            connection.connection.backup(destination)  # a consistent copy, while others write
        finally:
            destination.close()
    else:
        args, env = _pg_env()
        _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--file", str(target), *args],
             env, "dump the database")


def _restore_database(engine: str, source: Path) -> None:
    if engine == "sqlite":
        connections.close_all()
        connection.ensure_connection()
        origin = sqlite3.connect(source)
        try:
            origin.backup(connection.connection)  # replaces the whole database in one step
        finally:
            origin.close()
    else:
        connections.close_all()
        args, env = _pg_env()
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
              "--exit-on-error", *args, str(source)], env, "restore the database")
    connections.close_all()


# --------------------------------------------------------------------------- backup


def _store_files(packages: bool, work: Path) -> list[tuple[str, Path]]:
    """(member name, local file) of every stored release snapshot and package; files of an
    object store are downloaded into ``work``."""
    store = get_store()
    files = []
    for root_name in FILE_ROOTS:
        if root_name == "packages" and not packages:
            continue
        for name in store.names(root_name):
            if store.remote:
                local = work / "files" / name
                local.parent.mkdir(parents=True, exist_ok=True)
                store.download(name, local)
            else:
                local = store.path(name)
            files.append((name, local))
    return files


def make_backup(path: Path | str, *, packages: bool = True, progress: bool = False) -> dict:
    """Write the backup archive ``path`` (or ``store:NAME``) and return its manifest."""
    in_store = _store_backup_name(path)
    store = get_store()
    path = store.spool_dir(in_store) / Path(in_store).name if in_store else Path(path)
    engine = _engine()
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".backup-", dir=path.parent) as work:
        dump = Path(work) / DATABASE_MEMBERS[engine]
        _dump_database(engine, dump)
        members = [(dump.name, dump), *_store_files(packages, Path(work))]
        sizes = {name: file.stat().st_size for name, file in members}
        total = sum(sizes.values())
        manifest = {
            "format": FORMAT,
            "created_at": timezone.now().isoformat(),
            "engine": engine,
            "packages": packages,
            "migrations": _migrations(),
            "counts": _counts(),
            "files": {},
        }
        with tqdm(total=total, unit="B", unit_scale=True, desc="checksum", disable=not progress) as bar:
            for name, file in members:
                manifest["files"][name] = {"size": sizes[name], "sha256": _sha256(file)}
                bar.update(sizes[name])
        temp = path.with_name(f".{path.name}.partial")
        try:
            with tarfile.open(temp, "w") as tar, \
                    tqdm(total=total, unit="B", unit_scale=True, desc="archive", disable=not progress) as bar:
                data = json.dumps(manifest, indent=1, sort_keys=True).encode()
                info = tarfile.TarInfo("manifest.json")
                info.size, info.mtime, info.mode = len(data), int(timezone.now().timestamp()), 0o644
                tar.addfile(info, io.BytesIO(data))
                for name, file in members:
                    tar.add(file, arcname=name, recursive=False)
                    bar.update(sizes[name])
            with open(temp, "rb+") as f:
                os.fsync(f.fileno())
            if in_store:
                store.place(in_store, temp)
            else:
                os.replace(temp, path)
        finally:
            temp.unlink(missing_ok=True)
    return manifest


# --------------------------------------------------------------------------- restore


def _safe_member(name: str) -> bool:
    parts = PurePosixPath(name).parts
    return bool(parts) and not PurePosixPath(name).is_absolute() and ".." not in parts and "\x00" not in name


@contextmanager
def _local_archive(path):
    """A local file of the archive ``path`` (``store:NAME``: fetched from the store first)."""
    in_store = _store_backup_name(path)
    if not in_store:
        yield Path(path)
        return
    store = get_store()
    if not store.exists(in_store):
        raise BackupError(f"{path}: the store holds no backup {in_store}")
    with store.as_file(in_store) as local:
        yield local


@contextmanager
def _opened(path: Path):
    try:
        tar = tarfile.open(path, "r:*")
    except FileNotFoundError:
        raise BackupError(f"{path}: no such backup file") from None
    except tarfile.TarError:
        raise BackupError(f"{path} is not a backup archive (not a tar file); make one with: manage.py backup FILE") from None
    with tar:
        yield tar


def read_manifest(path: Path | str) -> dict:
    with _opened(Path(path)) as tar:
        try:
            manifest = json.load(tar.extractfile("manifest.json"))
        except (KeyError, ValueError, TypeError):
            raise BackupError(f"{path} has no readable manifest.json: not a backup made by manage.py backup") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path} is backup format {manifest.get('format')!r}; this version reads format {FORMAT}")
    return manifest


def check_backup(path: Path | str, into: Path | None = None, *, progress: bool = False) -> dict:
    """Check every member of the archive (a file or ``store:NAME``) against its manifest
    (extracting them into ``into`` when given). Raises ``BackupError`` naming the first bad
    member; returns the manifest."""
    with _local_archive(path) as local:
        return _check(local, into, progress=progress)


def _check(path: Path, into: Path | None, *, progress: bool) -> dict:
    manifest = read_manifest(path)
    expected = manifest["files"]
    seen = set()
    with _opened(path) as tar, tqdm(total=sum(f["size"] for f in expected.values()), unit="B", unit_scale=True,
                                    desc="check", disable=not progress) as bar:
        for member in tar:
            if member.name == "manifest.json":
                continue
            if not _safe_member(member.name) or not member.isfile():
                raise BackupError(f"{path}: member {member.name!r} is not a plain file inside the archive; refusing it")
            if member.name not in expected:
                raise BackupError(f"{path}: member {member.name} is not in the manifest; the archive was altered")
            digest = hashlib.sha256()
            source = tar.extractfile(member)
            out = None
            if into is not None:
                target = into / member.name
                target.parent.mkdir(parents=True, exist_ok=True)
                out = open(target, "wb")
            try:
                while block := source.read(CHUNK):
                    digest.update(block)
                    if out:
                        out.write(block)
                    bar.update(len(block))
            finally:
                if out:
                    out.close()
            if digest.hexdigest() != expected[member.name]["sha256"] or member.size != expected[member.name]["size"]:
                raise BackupError(f"{path}: {member.name} does not match its checksum; the archive is damaged. "
                                  "Use another backup.")
            seen.add(member.name)
    missing = sorted(set(expected) - seen)
    if missing:
        raise BackupError(f"{path} is incomplete: {len(missing)} file(s) missing, first {missing[0]}")
    if DATABASE_MEMBERS.get(manifest.get("engine")) not in expected:
        raise BackupError(f"{path} holds no database dump")
    return manifest


def _place_file(source: Path, name: str, mode: int, sha256: str) -> str:
    """Put ``source`` (whose checksum is ``sha256``) in the store as ``name``, atomically;
    'same' when the local store already holds those bytes there."""
    store = get_store()
    if not store.remote:
        target = store.path(name)
        if target.exists() and _sha256(target) == sha256:
            return "same"
    fd, temp = tempfile.mkstemp(prefix=".tmp-restore-", dir=store.spool_dir(name))
    os.close(fd)
    try:
        shutil.copyfile(source, temp)
        os.chmod(temp, mode)
        store.place(name, Path(temp))
    finally:
        Path(temp).unlink(missing_ok=True)
    return "written"


def restore_backup(path: Path | str, *, force: bool = False, progress: bool = False) -> dict:
    """Restore the archive ``path`` (or ``store:NAME``; see the module docstring). Returns a report dict."""
    with _local_archive(path) as local:
        return _restore(local, force=force, progress=progress)


def _restore(path: Path, *, force: bool, progress: bool) -> dict:
    engine = _engine()
    manifest = read_manifest(path)
    if manifest["engine"] != engine:
        raise BackupError(f"{path} is a backup of a {manifest['engine']} database, but this project uses {engine} "
                          "(DATABASE_URL): restore it into the same kind of database")
    if not force:
        held = {name: n for name, n in _counts().items() if n}
        if held:
            said = ", ".join(f"{n} {name}" for name, n in held.items())
            raise BackupError(f"the database already holds data ({said}); restoring replaces all of it. "
                              "Run again with --force to do so")
    report = {"files_written": 0, "files_same": 0, "releases_checked": 0, "releases_rebuilt": 0}
    near = Path(settings.RELEASES_DIR).parent if not get_store().remote else Path(settings.STORAGE_SPOOL_DIR)
    near.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".restore-", dir=near) as work:
        work = Path(work)
        _check(path, work, progress=progress)  # nothing changed before this passes
        _restore_database(engine, work / DATABASE_MEMBERS[engine])
        call_command("migrate", interactive=False, verbosity=0)  # a backup from an older version
        files = [name for name in manifest["files"] if name.split("/", 1)[0] in FILE_ROOTS]
        for name in tqdm(files, desc="files", unit="file", disable=not progress):
            mode = 0o444 if name.startswith("releases/") else 0o644
            outcome = _place_file(work / name, name, mode, manifest["files"][name]["sha256"])
            report["files_written" if outcome == "written" else "files_same"] += 1
    problems = []
    for release in Release.objects.order_by("number"):
        try:
            load_snapshot(release, verify=True, columns=["id"])
        except SnapshotError:
            try:
                restore_snapshot(release)
                report["releases_rebuilt"] += 1
            except SnapshotError as exc:
                problems.append(str(exc))
        report["releases_checked"] += 1
    report["problems"] = problems
    report["counts"] = _counts()
    return report
