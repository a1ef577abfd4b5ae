"""exporters.zipfiles: the package and KMZ zip writer (zlib-ng, deflate in blocks on threads),
read back by zipfile, by zlib and by Info-ZIP's unzip."""

import io
import os
import random
import shutil
import subprocess
import tracemalloc
import zipfile
import zlib

import pytest

from exporters import zipfiles
from exporters.base import COPY_CHUNK, OutputFile
from exporters.zipfiles import BLOCK, WINDOW, ZipWriter, deflate_block

IN_CI = os.environ.get("CI") == "true"


def deflate(data: bytes) -> bytes:
    """``data`` deflated as ``ZipWriter`` deflates an entry, on one thread: 1 MiB blocks, each
    primed with the 32 KiB before it, the last one final (an entry of 0 bytes: one empty block)."""
    view = memoryview(data)
    return b"".join(deflate_block(view[i:i + BLOCK], view[max(0, i - WINDOW):i], i + BLOCK >= len(data))
                    for i in range(0, max(len(data), 1), BLOCK))


def text(n: int, seed: int = 1) -> bytes:
    """``n`` bytes of GPX-like text: repetitive enough to deflate well, never the same line."""
    rng = random.Random(seed)
    out, size = [], 0
    while size < n:
        line = (f'<wpt lat="{rng.uniform(-60, 70):.6f}" lon="{rng.uniform(-180, 180):.6f}">'
                f"<name>Speed {rng.choice((30, 50, 70, 90, 110, 130))} A{rng.randrange(99)}</name></wpt>\n")
        out.append(line)
        size += len(line)
    return "".join(out).encode()[:n]


# sizes around the block boundaries: empty, one byte, one block exactly, one byte either side
# of two blocks, and several blocks with a short tail
SIZES = [0, 1, 1000, BLOCK - 1, BLOCK, BLOCK + 1, 2 * BLOCK, 2 * BLOCK + 1, 3 * BLOCK + 12_345]


def archive(entries, **add) -> bytes:
    buf = io.BytesIO()
    with ZipWriter(buf) as zw:
        for name, data in entries:
            zw.add(name, data, **add)
    return buf.getvalue()


def reference(entries, compression) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in entries:
            zf.writestr(zipfiles.entry_info(name, deflate=compression == zipfile.ZIP_DEFLATED), data)
    return buf.getvalue()


ENTRIES = [(f"files/{size}.gpx", text(size, seed=size)) for size in SIZES] + [
    ("caf\u00e9/\u0141\u00f3d\u017a.txt", b"non-ASCII name"), ("INSTALL.txt", b"")]


def test_stored_entries_are_the_bytes_zipfile_writes():
    assert archive(ENTRIES, deflate=False) == reference(ENTRIES, zipfile.ZIP_STORED)


def test_deflated_entries_read_back_whole_with_zipfile_and_the_same_directory_as_zipfile_writes():
    ours = archive(ENTRIES)
    with zipfile.ZipFile(io.BytesIO(ours)) as zf, zipfile.ZipFile(io.BytesIO(reference(ENTRIES, zipfile.ZIP_DEFLATED))) as ref:
        assert zf.testzip() is None
        assert [(name, zf.read(name)) for name in zf.namelist()] == ENTRIES
        fields = ("filename", "date_time", "compress_type", "flag_bits", "create_system", "create_version",
                  "extract_version", "external_attr", "CRC", "file_size")
        assert ([tuple(getattr(i, f) for f in fields) for i in zf.infolist()]
                == [tuple(getattr(i, f) for f in fields) for i in ref.infolist()])
        for info in zf.infolist():
            assert info.compress_size == len(deflate(zf.read(info)))


@pytest.mark.parametrize("size", SIZES)
def test_a_deflated_entry_is_one_stream_that_zlib_inflates(size):
    data = text(size, seed=size)
    raw = deflate(data)
    assert zlib.decompress(raw, -15) == data
    d = zlib.decompressobj(-15)
    assert d.decompress(raw) == data and d.eof and d.unused_data == b""  # one final block, nothing after it
    if size > 2 * BLOCK:  # each block primed with the one before: about as small as one pass
        whole = zlib.compressobj(6, zlib.DEFLATED, -15)
        assert len(raw) < 1.02 * len(whole.compress(data) + whole.flush())


def test_unzip_tests_and_extracts_the_archive(tmp_path):
    if shutil.which("unzip") is None:
        if IN_CI:
            pytest.fail("unzip is missing (apt-get install unzip)")
        pytest.skip("unzip is not installed")
    path = tmp_path / "package.zip"
    path.write_bytes(archive(ENTRIES))
    tested = subprocess.run(["unzip", "-t", str(path)], capture_output=True, text=True)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "No errors detected" in tested.stdout
    out = tmp_path / "out"
    subprocess.run(["unzip", "-q", str(path), "-d", str(out)], check=True)
    size = 3 * BLOCK + 12_345
    assert (out / "files" / f"{size}.gpx").read_bytes() == text(size, seed=size)


@pytest.mark.parametrize("threads", [1, 2, 4])
def test_the_archive_does_not_depend_on_the_number_of_threads(threads, monkeypatch):
    expected = archive(ENTRIES)
    monkeypatch.setattr(zipfiles, "THREADS", threads)
    assert archive(ENTRIES) == expected


def test_bytes_a_spooled_file_and_a_writer_callback_give_the_same_entry(tmp_path):
    data = text(2 * BLOCK + 500)
    path = tmp_path / "spool.gpx"
    path.write_bytes(data)
    half = len(data) // 2
    sources = [data, OutputFile("a.gpx", data), OutputFile("a.gpx", None, path=str(path)),
               lambda out: (out.write(data[:half]), out.write(memoryview(data)[half:]))]
    assert len({archive([("a.gpx", source)]) for source in sources}) == 1


def test_a_spooled_file_is_read_in_whole_blocks():
    """``OutputFile.copy_to`` reads ``COPY_CHUNK`` bytes at a time: a multiple of the block, so
    every block of a spooled file goes to the threads without a copy."""
    assert COPY_CHUNK % BLOCK == 0


def test_a_large_spooled_file_is_deflated_without_holding_it_in_memory(tmp_path, monkeypatch):
    monkeypatch.setattr(zipfiles, "THREADS", 2)
    chunk = text(BLOCK)
    path = tmp_path / "big.gpx"
    with open(path, "wb") as fh:
        for _ in range(64):
            fh.write(chunk)
    tracemalloc.start()
    try:
        with open(tmp_path / "out.zip", "wb") as fh, ZipWriter(fh) as zw:
            zw.add("big.gpx", OutputFile("big.gpx", None, path=str(path)))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * BLOCK  # 64 MiB in: a few blocks in flight (about 10 MiB), never the file
    with zipfile.ZipFile(tmp_path / "out.zip") as zf:
        assert zf.getinfo("big.gpx").file_size == 64 * BLOCK and zf.testzip() is None


def test_a_failing_source_raises_and_leaves_no_thread_behind():
    def fails(out):
        out.write(text(3 * BLOCK))
        raise OSError("disk gone")

    with pytest.raises(OSError, match="disk gone"):
        archive([("a.gpx", fails)])
    import threading

    assert not [t for t in threading.enumerate() if t.name.startswith("deflate")]
