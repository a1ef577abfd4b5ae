"""textrows.OutputBuffer: the in-memory file of the text formats behaves as io.BytesIO does
(writes, seeks back, writes past the end), below and above the size at which it moves to
memory advised for huge pages, and hands over the same bytes."""

import io
import random
import zipfile

import pytest

from exporters import textrows
from exporters.textrows import OutputBuffer


def replay(buf, ops):
    for op, arg in ops:
        if op == "write":
            buf.write(arg)
        else:
            buf.seek(*arg)
    return buf.tell(), buf.getvalue()


def random_ops(seed: int, n: int = 300):
    rng = random.Random(seed)
    ops, size = [], 0
    for _ in range(n):
        r = rng.random()
        if r < 0.7:
            data = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 3000)))
            ops.append(("write", data))
            size += len(data)
        elif r < 0.8:
            ops.append(("write", memoryview(bytearray(rng.randrange(1, 500)))))
        elif r < 0.9:
            ops.append(("seek", (rng.randrange(0, size + 1000),)))  # maybe past the end: a gap of zeros
        else:
            ops.append(("seek", (0, io.SEEK_END)))
    return ops


@pytest.mark.parametrize("huge_from", [0, 100, 10_000, 1 << 30])
@pytest.mark.parametrize("seed", range(4))
def test_same_as_bytesio(monkeypatch, huge_from, seed):
    monkeypatch.setattr(textrows, "HUGE_FROM", huge_from)
    monkeypatch.setattr(textrows, "_HUGE_START", 4096)  # grow (copy into a new object) often
    ops = random_ops(seed)
    assert replay(OutputBuffer(), ops) == replay(io.BytesIO(), ops)


def test_large_output_and_closed_after_getvalue():
    chunk = bytes(range(256)) * 4096  # 1 MiB
    buf = OutputBuffer()
    for _ in range(5):
        buf.write(chunk)
    value = buf.getvalue()
    assert type(value) is bytes and value == chunk * 5
    assert buf.closed
    with pytest.raises(ValueError):
        buf.write(b"x")
    assert hash(value) == hash(chunk * 5)


def test_zipfile_writes_the_same_archive(monkeypatch):
    monkeypatch.setattr(textrows, "HUGE_FROM", 1000)
    monkeypatch.setattr(textrows, "_HUGE_START", 4096)

    def archive(fh):
        with zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED) as zf:
            info = zipfile.ZipInfo("doc.kml", date_time=(1980, 1, 1, 0, 0, 0))
            with zf.open(info, "w") as dest:  # streamed: the local header is rewritten afterwards
                for i in range(200):
                    dest.write(f"<Placemark>{i}</Placemark>\n".encode() * 10)
            zf.writestr(zipfile.ZipInfo("icons/a.png", date_time=(1980, 1, 1, 0, 0, 0)), b"\x89PNG" * 100)
        return fh.getvalue()

    assert archive(OutputBuffer()) == archive(io.BytesIO())


def test_discarded_buffer_is_released():
    buf = OutputBuffer()
    buf.write(b"x" * (textrows.HUGE_FROM + 10))
    buf.close()
    assert buf.closed
    del buf


def test_no_room_for_huge_pages_stays_bytesio(monkeypatch):
    monkeypatch.setattr(textrows, "HUGE_FROM", 100)

    def no_room(self, need):
        raise MemoryError

    monkeypatch.setattr(OutputBuffer, "_reserve", no_room)
    ops = random_ops(9)
    assert replay(OutputBuffer(), ops) == replay(io.BytesIO(), ops)


def write_kmz_zipfile(fh, doc) -> None:
    """``kml.write_kmz`` with ``zipfile``: the reference."""
    import zipfile

    from exporters.plugins.kml import DOC_NAME
    from exporters.textrows import write_parts
    from exporters.zipfiles import entry_info

    with zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED) as zf:
        with zf.open(entry_info(DOC_NAME, deflate=False), "w") as dest:
            write_parts(dest, doc.parts)
        for name, png in doc.icons:
            zf.writestr(entry_info(name, deflate=False), png)


def test_kmz_writer_matches_zipfile():
    """kml.write_kmz (exporters.zipfiles, stored entries, zlib-ng's CRC-32) writes the bytes zipfile does."""
    from types import SimpleNamespace

    from exporters.base import ExportOptions
    from exporters.plugins import kml
    from tests.exporters.fixtures import sample_cameras, scaled_cameras

    docs = [kml.Document(cams, options) for cams in (sample_cameras(), scaled_cameras(2000))
            for options in (ExportOptions(mobile=True), ExportOptions(icons="fr-danger"))]
    docs.append(SimpleNamespace(parts=["<kml>", b"\xc3\xa9", lambda out: out.write(b"x" * 70_000), "</kml>\n"],
                                icons=[("icons/caf\u00e9.png", b"\x89PNG" * 50), ("icons/b.png", b"")]))
    for doc in docs:
        ours, reference = OutputBuffer(), io.BytesIO()
        kml.write_kmz(ours, doc)
        write_kmz_zipfile(reference, doc)
        assert ours.getvalue() == reference.getvalue()
