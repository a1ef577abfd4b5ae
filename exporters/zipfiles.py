"""Deterministic ZIP archives: the package zip and the KMZ.

``ZipWriter`` writes what ``zipfile.ZipFile(fh, "w")`` writes for the same entries (local
header, data, central directory, end record; APPNOTE.TXT 4.3), with three differences that
make a cold package build about twice as fast on a 2-core machine:

- CRC-32 and deflate are zlib-ng's (``zlib_ng``: the same CRC values as zlib, a different
  but standard deflate stream, and smaller at the same level on our files);
- a deflated entry is cut into 1 MiB blocks compressed on several threads, as pigz does:
  each block is primed with the 32 KiB before it (a preset dictionary, so matches still reach
  back across the cut) and ends on a byte boundary (``Z_SYNC_FLUSH``), the last one with
  the final block (``Z_FINISH``); their concatenation is one ordinary deflate stream that any
  unzip reads. The blocks do not depend on the number of threads: the same bytes in give
  the same archive on any machine;
- the data never has to be in memory whole: bytes, a spooled file or a writer callback are
  fed through in blocks, and the local header is rewritten with the sizes and CRC once
  the data is written (so ``fh`` must be seekable; no data descriptor).

Every entry is dated 1980-01-01 with permissions 0644 (Unix), so the same input gives the
same bytes. No ZIP64: an entry or archive over 2 GiB (``zipfile.ZIP64_LIMIT``) is refused
(packages are well under 100 MB).
"""

from __future__ import annotations

import os
import struct
import zipfile
from collections import deque

try:  # zlib-ng: CRC-32 with carry-less multiplication, deflate 1.5 to 2.5 times zlib's speed
    from zlib_ng import zlib_ng as zlib
except ImportError:  # pragma: no cover - zlib: the same archive layout, other deflate bytes
    import zlib

ZIP_DATE = (1980, 1, 1, 0, 0, 0)
LEVEL = 6  # deflate level (level 9 gave zips 2-7 % smaller for 2.5 to 7.5 times the time)
BLOCK = 1 << 20  # bytes per deflate block (pigz: 128 KiB); the 93 MB KMZ deflates 0.06 % larger than in one pass
WINDOW = 32 * 1024  # deflate's window: the preset dictionary of each block
THREADS = max(1, min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1))


def entry_info(name: str, deflate: bool = True) -> zipfile.ZipInfo:
    """A package or KMZ entry: fixed date and permissions, deflated or stored."""
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16
    info.create_system = 3
    return info


def deflate_block(data, dictionary, last: bool) -> bytes:
    """One block of a deflate stream (raw, no zlib header, ``LEVEL``): primed with ``dictionary``
    (the bytes before the block), ending on a byte boundary, or with the final block if ``last``."""
    if dictionary:
        compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, -15, zdict=dictionary)
    else:
        compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, -15)
    out = compressor.compress(data)
    return out + compressor.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)


class _Sink:
    """The data of one entry as it is written: its CRC-32 and size, and the bytes written to
    the archive (stored as they come, or deflated in blocks on ``pool`` threads, at most
    two blocks per thread in flight so memory stays bounded). Whole blocks of immutable
    bytes (a spooled file read a block at a time, bytes in memory) are handed over without
    a copy; other writes are gathered into blocks."""

    def __init__(self, fh, deflated: bool, pool):
        self.fh, self.deflated, self.pool = fh, deflated, pool
        self.crc = self.size = self.written = 0
        self.pending = bytearray()  # data not yet in a block
        self.held = None  # the last whole block: only close() knows whether it is the last one
        self.previous = b""  # the tail of the block handed over before (the next one's dictionary)
        self.blocks: deque = deque()  # compressed blocks (futures or bytes), in order

    def write(self, data) -> int:
        n = len(data) if isinstance(data, bytes) else memoryview(data).nbytes
        self.crc = zlib.crc32(data, self.crc)
        self.size += n
        if not self.deflated:
            self.fh.write(data)
            self.written += n
            return n
        if isinstance(data, bytes) and not self.pending:
            view = memoryview(data)
            whole = n - n % BLOCK
            for start in range(0, whole, BLOCK):
                self._push(view[start:start + BLOCK])
            self.pending += view[whole:]
            return n
        self.pending += data
        while len(self.pending) >= BLOCK:
            self._push(bytes(self.pending[:BLOCK]))
            del self.pending[:BLOCK]
        return n

    def _push(self, block) -> None:
        if self.held is not None:
            self._hand_over(self.held, last=False)
        self.held = block

    def _hand_over(self, block, last: bool) -> None:
        dictionary, self.previous = self.previous, block[-WINDOW:]
        pool = self.pool() if not last or self.blocks else None  # a one-block entry: no thread
        if pool is None:
            self.blocks.append(deflate_block(block, dictionary, last))
        else:
            self.blocks.append(pool.submit(deflate_block, block, dictionary, last))
        while len(self.blocks) > 2 * THREADS or (last and self.blocks):
            self._emit(self.blocks.popleft())

    def _emit(self, block) -> None:
        data = block if isinstance(block, bytes) else block.result()
        self.fh.write(data)
        self.written += len(data)

    def close(self) -> None:
        if not self.deflated:
            return
        if self.pending:
            self._push(bytes(self.pending))
            self.pending = bytearray()
        self._hand_over(self.held if self.held is not None else b"", last=True)
        self.held = None


class ZipWriter:
    """A ZIP archive written to ``fh`` (binary, seekable), entry by entry::

        with ZipWriter(fh) as zw:
            zw.add("INSTALL.txt", text_bytes)               # bytes
            zw.add("speedcams.gpx", output_file)            # an OutputFile (its data or its spool)
            zw.add("doc.kml", lambda out: out.write(...), deflate=False)  # a writer callback
    """

    def __init__(self, fh):
        self.fh = fh
        self.infos: list[zipfile.ZipInfo] = []
        self._pool = None  # a ThreadPoolExecutor, made for the first entry of several blocks

    def _threads(self):
        if THREADS < 2:
            return None
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor  # only for large entries (import: 5 ms)

            self._pool = ThreadPoolExecutor(THREADS, thread_name_prefix="deflate")
        return self._pool

    def add(self, name: str, source, *, deflate: bool = True) -> zipfile.ZipInfo:
        """Write one entry: ``source`` is bytes, an object with ``copy_to(out)`` (an
        ``OutputFile``) or a callable ``source(out)`` that writes the data to ``out``."""
        info = entry_info(name, deflate)
        info.flag_bits, info.CRC, info.compress_size, info.file_size = 0, 0, 0, 0
        info.header_offset = self.fh.tell()
        self.fh.write(info.FileHeader(False))
        sink = _Sink(self.fh, deflate, self._threads)
        if isinstance(source, (bytes, bytearray, memoryview)):
            sink.write(source)
        elif hasattr(source, "copy_to"):
            source.copy_to(sink)
        else:
            source(sink)
        sink.close()
        if max(sink.size, sink.written, self.fh.tell()) > zipfile.ZIP64_LIMIT:
            raise RuntimeError(f"{name}: {sink.size:,} bytes, over the 2 GiB of a zip without ZIP64")
        info.CRC, info.compress_size, info.file_size = sink.crc, sink.written, sink.size
        end = self.fh.tell()
        self.fh.seek(info.header_offset)
        self.fh.write(info.FileHeader(False))
        self.fh.seek(end)
        self.infos.append(info)
        return info

    def close(self) -> None:
        """The central directory and the end record (as ``zipfile`` writes them)."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
        start = self.fh.tell()
        for info in self.infos:
            dt = info.date_time
            dosdate = (dt[0] - 1980) << 9 | dt[1] << 5 | dt[2]
            dostime = dt[3] << 11 | dt[4] << 5 | (dt[5] // 2)
            name, flags = info._encodeFilenameFlags()  # what zipfile writes (UTF-8 flagged when not ASCII)
            self.fh.write(struct.pack(zipfile.structCentralDir, zipfile.stringCentralDir, info.create_version,
                                      info.create_system, info.extract_version, info.reserved, flags,
                                      info.compress_type, dostime, dosdate, info.CRC, info.compress_size,
                                      info.file_size, len(name), 0, 0, 0, info.internal_attr, info.external_attr,
                                      info.header_offset))
            self.fh.write(name)
        end = self.fh.tell()
        if end > zipfile.ZIP64_LIMIT:
            raise RuntimeError(f"{end:,} bytes, over the 2 GiB of a zip without ZIP64")
        self.fh.write(struct.pack(zipfile.structEndArchive, zipfile.stringEndArchive, 0, 0, len(self.infos),
                                  len(self.infos), end - start, start, 0))

    def __enter__(self) -> "ZipWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        elif self._pool is not None:
            self._pool.shutdown(cancel_futures=True)

