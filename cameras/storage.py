"""The file store: release snapshots, the package store and backups, behind one interface.

Two backends, chosen by ``settings.STORAGE_URL``:

- empty (the default, ``./run`` and ``./test``): :class:`LocalStore`, the local directories
  ``RELEASES_DIR``, ``PACKAGES_DIR`` and ``BACKUPS_DIR``, exactly where the files always were;
- ``s3://bucket/prefix``: :class:`S3Store`, an S3-compatible object store (AWS, MinIO, Ceph,
  moto in the tests) through django-storages and boto3, shared by every machine of the shop:
  a web node serves a package a worker on another machine built, and a worker reads the
  snapshot another machine published.

Names are ``<namespace>/<path>`` with the namespaces ``releases`` (``release-000007.parquet``),
``packages`` (``ab/ab12...ef.zip``, content-addressed: the same key is the same bytes, so an
unchanged package is found and not built again) and ``backups``.

Writes are atomic in both backends: the bytes go to a local spool file first, then
:meth:`Store.place` makes them visible whole -- a rename (or a hard link that never replaces)
on the disk; an upload to a temporary key followed by a server-side copy to the final key in
the object store. A reader never sees half a file. Exporters stay pure: they return bytes or
spool files; this module is what moves them into the store.

Readers that need a real file (Parquet snapshots are memory-mapped, backups are tar members)
call :meth:`Store.local_path`: the file itself on the disk; with S3 a copy in
``STORAGE_CACHE_DIR`` downloaded once (atomically) and reused. The cache is safe because a
name never changes meaning: snapshots are immutable and checked against their sha256, packages
are content-addressed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

NAMESPACES = ("releases", "packages", "backups")
TEMP_PREFIX = ".tmp"  # temporary files and keys; never listed, never backed up


def split_name(name: str) -> tuple[str, str]:
    """(namespace, relative path) of a store name; ValueError for a name that could escape
    its namespace (absolute, ``..``, NUL) or has no known namespace."""
    path = PurePosixPath(name)
    if not isinstance(name, str) or path.is_absolute() or ".." in path.parts or "\x00" in name \
            or len(path.parts) < 2 or path.parts[0] not in NAMESPACES:
        raise ValueError(f"not a store name: {name!r} (expected one of {', '.join(NAMESPACES)}/...)")
    return path.parts[0], "/".join(path.parts[1:])


def parse_storage_url(url: str) -> tuple[str, str]:
    """(bucket, prefix) of ``s3://bucket/prefix``; ImproperlyConfigured naming what to fix."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
        raise ImproperlyConfigured(
            f"STORAGE_URL={url!r} is not an object store URL: use s3://BUCKET or s3://BUCKET/PREFIX "
            "(and AWS_S3_ENDPOINT_URL for a store other than AWS), or leave it empty for the local disk")
    return parts.netloc, parts.path.strip("/")


class Store:
    """What every backend offers. ``name`` arguments are store names (see the module doc)."""

    remote = False

    def exists(self, name: str) -> bool: raise NotImplementedError
    def size(self, name: str) -> int: raise NotImplementedError
    def modified(self, name: str) -> float: raise NotImplementedError
    def open(self, name: str): raise NotImplementedError
    def local_path(self, name: str) -> Path: raise NotImplementedError
    def spool_dir(self, name: str) -> Path: raise NotImplementedError
    def place(self, name: str, temp: Path, *, replace: bool = True) -> None: raise NotImplementedError
    def delete(self, name: str) -> None: raise NotImplementedError
    def rename(self, name: str, new_name: str) -> None: raise NotImplementedError
    def names(self, namespace: str) -> list[str]: raise NotImplementedError
    def download(self, name: str, target: Path) -> None: raise NotImplementedError

    def download_url(self, name: str, filename: str) -> str | None:
        """A short-lived URL the customer's browser may fetch ``name`` from directly, or None
        when the file must be streamed by the web node (the local disk)."""
        return None

    def read_bytes(self, name: str) -> bytes:
        with self.open(name) as fh:
            return fh.read()

    def save_bytes(self, name: str, data, *, replace: bool = True) -> None:
        """Write ``data`` under ``name`` atomically (see :meth:`place`)."""
        spool = self.spool_dir(name)
        fd, temp = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}-", dir=spool)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            self.place(name, Path(temp), replace=replace)
        finally:
            Path(temp).unlink(missing_ok=True)

    @contextmanager
    def as_file(self, name: str):
        """A real file holding ``name`` for the duration of the block (no cache kept)."""
        yield self.local_path(name)


class LocalStore(Store):
    """The local directories of the settings (read at each call: tests move them)."""

    def root(self, namespace: str) -> Path:
        return Path({"releases": settings.RELEASES_DIR, "packages": settings.PACKAGES_DIR,
                     "backups": settings.BACKUPS_DIR}[namespace])

    def path(self, name: str) -> Path:
        namespace, relative = split_name(name)
        return self.root(namespace) / relative

    def exists(self, name):
        return self.path(name).is_file()

    def size(self, name):
        return self.path(name).stat().st_size

    def modified(self, name):
        return self.path(name).stat().st_mtime

    def open(self, name):
        return open(self.path(name), "rb")

    def read_bytes(self, name):
        return self.path(name).read_bytes()

    def local_path(self, name):
        path = self.path(name)
        if not path.is_file():
            raise FileNotFoundError(str(path))
        return path

    def spool_dir(self, name):
        # Beside the final name: the same filesystem, so placing it is a rename.
        directory = self.path(name).parent
        directory.mkdir(parents=True, exist_ok=True)
        return directory

    def place(self, name, temp, *, replace=True):
        """Give ``temp`` the name ``name`` atomically; with ``replace=False`` never replace an
        existing file (FileExistsError)."""
        path = self.path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        if replace:
            os.replace(temp, path)
        else:
            try:
                os.link(temp, path)
            except FileExistsError:
                raise
            except OSError:
                # A filesystem without hard links: claim the name exclusively, then replace our
                # own (empty) claim. Nobody reads the name before it is recorded.
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444))
                os.replace(temp, path)
        _fsync_dir(path.parent)

    def delete(self, name):
        self.path(name).unlink(missing_ok=True)

    def download(self, name, target):
        shutil.copyfile(self.path(name), target)

    def rename(self, name, new_name):
        target = self.path(new_name)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.path(name), target)

    def names(self, namespace):
        root = self.root(namespace)
        if not root.exists():
            return []
        names = (p.relative_to(root).as_posix() for p in sorted(root.rglob("*")) if p.is_file())
        return [f"{namespace}/{n}" for n in names if not any(part.startswith(".") for part in n.split("/"))]


class S3Store(Store):
    """An S3-compatible bucket (django-storages' ``S3Storage`` and its boto3 client)."""

    remote = True

    def __init__(self, url: str):
        from storages.backends.s3 import S3Storage

        self.url = url
        self.bucket_name, self.prefix = parse_storage_url(url)
        self._seen: dict[str, float] = {}  # name -> until when "it exists" is believed
        self._client, self._client_pid, self._client_lock = None, None, threading.Lock()
        endpoint = settings.AWS_S3_ENDPOINT_URL or None
        self.storage = S3Storage(
            bucket_name=self.bucket_name, location=self.prefix, endpoint_url=endpoint,
            access_key=settings.AWS_ACCESS_KEY_ID or None, secret_key=settings.AWS_SECRET_ACCESS_KEY or None,
            region_name=settings.AWS_S3_REGION_NAME or None,
            # A custom endpoint (MinIO, moto, an IP) rarely has a DNS name per bucket.
            addressing_style=settings.AWS_S3_ADDRESSING_STYLE or ("path" if endpoint else None),
            signature_version="s3v4", querystring_auth=True, querystring_expire=settings.STORAGE_URL_MAX_AGE,
            file_overwrite=True,
            default_acl=None)

    @property
    def client(self):
        """The boto3 S3 client of this process, shared by its threads (boto3 clients are
        thread-safe). django-storages' own ``connection`` is a boto3 session and resource per
        thread: each new thread (a gunicorn worker's, on its first request) loaded the S3
        service model and endpoint rules again -- a slow first download per thread, the
        release-day rush's tail. A forked child (prefork) makes its own: no connection pool
        is shared across a fork."""
        client = self._client
        if client is None or self._client_pid != os.getpid():
            with self._client_lock:
                if self._client is None or self._client_pid != os.getpid():
                    from botocore.config import Config

                    storage = self.storage
                    session = storage._create_session()  # the keys of the settings, as django-storages
                    self._client = session.client(
                        "s3", region_name=storage.region_name, use_ssl=storage.use_ssl,
                        endpoint_url=storage.endpoint_url, verify=storage.verify,
                        # room for every web thread plus a transfer's own threads
                        config=storage.client_config.merge(Config(max_pool_connections=32)))
                    self._client_pid = os.getpid()
                client = self._client
        return client

    def key(self, name: str) -> str:
        split_name(name)
        return f"{self.prefix}/{name}" if self.prefix else name

    def _head(self, name):
        from botocore.exceptions import ClientError

        try:
            return self.client.head_object(Bucket=self.bucket_name, Key=self.key(name))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                raise FileNotFoundError(f"{self.url}/{name}") from None
            raise

    def exists(self, name):
        """Whether ``name`` is stored. A yes is remembered for STORAGE_EXISTS_TTL seconds in
        this process: names never change meaning (immutable snapshots, content-addressed
        packages), so on a release-day rush a download costs no request to the store before
        its redirect. Deleting through this store forgets it at once; a file deleted by
        another machine may be announced as there for that long (the customer then gets the
        store's 404, and the panel a rebuilt file on the next visit)."""
        until = self._seen.get(name)
        if until is not None and until > time.monotonic():
            return True
        try:
            self._head(name)
        except FileNotFoundError:
            return False
        self._seen[name] = time.monotonic() + settings.STORAGE_EXISTS_TTL
        return True

    def size(self, name):
        return int(self._head(name)["ContentLength"])

    def modified(self, name):
        return self._head(name)["LastModified"].timestamp()

    def open(self, name):
        """The object's body, streamed (read in chunks; a context manager)."""
        from botocore.exceptions import ClientError

        try:
            return self.client.get_object(Bucket=self.bucket_name, Key=self.key(name))["Body"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey"):
                raise FileNotFoundError(f"{self.url}/{name}") from None
            raise

    def download(self, name: str, target: Path) -> None:
        """Download ``name`` to ``target`` atomically (temporary file + rename)."""
        from botocore.exceptions import ClientError

        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}-", dir=target.parent)
        os.close(fd)
        try:
            self.client.download_file(self.bucket_name, self.key(name), temp)
            os.replace(temp, target)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey"):
                raise FileNotFoundError(f"{self.url}/{name}") from None
            raise
        finally:
            Path(temp).unlink(missing_ok=True)

    def cache_path(self, name: str) -> Path:
        return Path(settings.STORAGE_CACHE_DIR) / name

    def local_path(self, name):
        path = self.cache_path(name)
        if not path.is_file():
            self.download(name, path)
        return path

    def forget(self, name: str) -> None:
        """Drop the local copy of ``name`` (it failed a check: read it again from the store)."""
        self.cache_path(name).unlink(missing_ok=True)

    @contextmanager
    def as_file(self, name):
        spool = self.spool_dir(name)
        target = spool / f"{TEMP_PREFIX}-{uuid.uuid4().hex}"
        try:
            self.download(name, target)
            yield target
        finally:
            target.unlink(missing_ok=True)

    def spool_dir(self, name):
        directory = Path(settings.STORAGE_SPOOL_DIR)
        directory.mkdir(parents=True, exist_ok=True)
        return directory

    def place(self, name, temp, *, replace=True):
        """Upload ``temp`` to a temporary key, then copy it to ``name`` on the server: the final
        key appears whole or not at all. ``replace=False`` raises FileExistsError when ``name``
        exists (checked before the copy; callers that need it exclusive also hold a database
        row that only one of them can insert, as a release number)."""
        if not replace and self.exists(name):
            raise FileExistsError(f"{self.url}/{name}")
        temp_key = self.key(f"{split_name(name)[0]}/{TEMP_PREFIX}/{uuid.uuid4().hex}")
        self.client.upload_file(str(temp), self.bucket_name, temp_key)
        try:
            self.client.copy({"Bucket": self.bucket_name, "Key": temp_key}, self.bucket_name, self.key(name))
        finally:
            self.client.delete_object(Bucket=self.bucket_name, Key=temp_key)
        if split_name(name)[0] == "releases":  # this machine will read it: keep the copy it has
            cached = self.cache_path(name)
            cached.parent.mkdir(parents=True, exist_ok=True)
            fd, spare = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}-", dir=cached.parent)
            os.close(fd)
            try:
                shutil.copyfile(temp, spare)
                os.replace(spare, cached)
            finally:
                Path(spare).unlink(missing_ok=True)

    def delete(self, name):
        self._seen.pop(name, None)
        self.client.delete_object(Bucket=self.bucket_name, Key=self.key(name))
        self.forget(name)

    def rename(self, name, new_name):
        self._head(name)  # FileNotFoundError, as os.replace
        self.client.copy({"Bucket": self.bucket_name, "Key": self.key(name)}, self.bucket_name, self.key(new_name))
        self.delete(name)

    def names(self, namespace):
        if namespace not in NAMESPACES:
            raise ValueError(f"not a store namespace: {namespace!r}")
        start = self.key(f"{namespace}/x")[:-1]
        out = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket_name, Prefix=start):
            for item in page.get("Contents", ()):
                relative = item["Key"][len(start):]
                if not any(part.startswith(".") for part in relative.split("/")):
                    out.append(f"{namespace}/{relative}")
        return sorted(out)

    def download_url(self, name, filename):
        """A presigned GET of the object (a local HMAC, no request to the store) that expires
        after STORAGE_URL_MAX_AGE seconds and makes the browser save it as ``filename``."""
        # The file name is download_filename()'s: letters, digits, '.', '_' and '-' only.
        return self.client.generate_presigned_url("get_object", Params={
            "Bucket": self.bucket_name, "Key": self.key(name),
            "ResponseContentDisposition": f'attachment; filename="{filename}"',
            "ResponseContentType": "application/zip"}, ExpiresIn=settings.STORAGE_URL_MAX_AGE)

    def warm(self) -> None:
        """Pay the one-time costs (the client, its service model, the signer) now rather than
        in a customer's request: portal/wsgi.py calls it as each web process loads."""
        self.download_url("packages/00/warm.zip", "warm.zip")


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


_stores: dict[tuple, Store] = {}
_lock = threading.Lock()


def get_store() -> Store:
    """The store the settings name (one instance per configuration: boto3 clients are costly)."""
    url = settings.STORAGE_URL
    if not url:
        return _LOCAL
    config = (url, settings.AWS_S3_ENDPOINT_URL, settings.AWS_ACCESS_KEY_ID, settings.AWS_S3_REGION_NAME)
    with _lock:
        store = _stores.get(config)
        if store is None:
            store = _stores[config] = S3Store(url)
    return store


_LOCAL = LocalStore()
