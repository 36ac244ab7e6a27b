"""Read an article file safely: a regular file, within its size limit, as UTF-8 text."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ..errors import SourceError


def read_text(path: str | Path, display: str, max_bytes: int) -> str:
    """Read a file as UTF-8 (a BOM is allowed), refusing what is not text.

    Raises:
        SourceError: unreadable, too large, empty, binary or not UTF-8.
    """
    return decode_text(read_bytes(path, display, max_bytes), display)


def read_bytes(path: str | Path, display: str, max_bytes: int) -> bytes:
    """Read a regular file whole, refusing one over ``max_bytes`` before reading it.

    Raises:
        SourceError: unreadable, not a regular file, or too large.
    """
    try:
        # O_NONBLOCK: opening a FIFO named like an article must not wait for a writer.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        try:  # a bare descriptor: a file object costs more than the read of a small file
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise SourceError(display, "not a regular file")
            size = info.st_size
            if size > max_bytes:
                raise SourceError(
                    display,
                    f"file is {size:,} bytes, over the limit of {max_bytes:,} (max_file_bytes)",
                )
            # Read what stat promised and one byte more (a file still growing shows
            # it); asking for max_bytes at once would allocate that much per file.
            data = os.read(fd, size + 1)
            if len(data) != size:  # it grew, shrank, or the read stopped short: read on
                data = _read_on(fd, data, max_bytes + 1)
        finally:
            os.close(fd)
    except OSError as e:
        raise SourceError(display, f"cannot read file: {e.strerror or e}") from e
    if len(data) > max_bytes:
        raise SourceError(display, f"file grew over the limit of {max_bytes:,} bytes while read")
    return data


def _read_on(fd: int, data: bytes, limit: int) -> bytes:
    """``data`` and what follows it in ``fd``: up to ``limit`` bytes in all, or to the end."""
    parts = [data]
    count = len(data)
    while count < limit:
        more = os.read(fd, limit - count)
        if not more:
            break
        parts.append(more)
        count += len(more)
    return b"".join(parts)


def decode_text(data: bytes, display: str) -> str:
    """UTF-8 text (a BOM is allowed) from a file's bytes.

    Raises:
        SourceError: empty, binary or not UTF-8.
    """
    if not data or data.isspace():  # what strip() would leave empty, without a copy
        raise SourceError(display, "empty file")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise SourceError(display, "not UTF-8 text: UTF-16 (byte order mark); save it as UTF-8")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise SourceError(display, f"binary file, not text (NUL byte at offset {nul})")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise SourceError(
            display, f"not UTF-8 text: invalid byte 0x{data[e.start]:02x} at offset {e.start}", line
        ) from e


def display_name(path: str | Path) -> str:
    """``path`` as printable text, one to one: no two paths share a display name.

    A file name is bytes on POSIX; one that is not UTF-8 must still be named
    in a message (and in ``--json``) without breaking the output. Undecodable
    bytes read ``\\xe9``, control and invisible characters their escape
    (``\\n``, ``\\u200b``), and a backslash itself ``\\\\``, so that a file
    literally named ``caf\\xe9.md`` is not taken for ``caf<0xe9>.md``: the
    display name is also the key of a file's row in the article cache.
    """
    if isinstance(path, str) and path.isprintable() and path.isascii() and "\\" not in path:
        return path  # the usual case, without a round trip through bytes
    text = os.fsencode(path).decode("utf-8", "surrogateescape")
    return "".join(_shown_char(c) for c in text)


_SHORT_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _shown_char(c: str) -> str:
    """``\\xNN`` only for a byte that is not UTF-8; ``\\uNNNN`` for an invisible character."""
    if c.isprintable() and c != "\\":
        return c
    if c in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[c]
    code = ord(c)
    if 0xDC80 <= code <= 0xDCFF:  # surrogateescape: an undecodable byte
        return f"\\x{code - 0xDC00:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
