"""A linear pre-scan of MIME structure, so limits hold before the stdlib builds a tree.

Python's ``email`` feed parser recurses once per nesting level and builds every part
before anyone can count them: 1,000 nested multiparts in 58 KB exhaust the stack, and
10,000 sibling parts cost seconds. `scan_mime()` walks the raw bytes once, the way
the feed parser will read them (header blocks, ``multipart/*`` boundaries with inner
boundaries ending at any enclosing one, ``message/*`` bodies parsed as nested
messages, ``message/delivery-status`` blocks), and refuses the message as soon as a
limit is passed. Body bytes are skipped with ``bytes.find`` for the next line starting
with ``--``, so the cost is linear in the size of the message and independent of how
hostile it is.

The model errs on the side of counting more than the parser builds (a refused odd
message is a clear error; an under-count would be a denial of service).
"""

from __future__ import annotations

import email.message
from typing import Protocol

import attrs

from csmkit.errors import MessageFormatError

__all__ = ["MimeShape", "ScanLimits", "scan_mime"]


@attrs.frozen
class MimeShape:
    """What the scan counted: MIME entities (the message itself included) and the
    deepest nesting of containers (0 for a single-part message)."""

    parts: int
    depth: int


class ScanLimits(Protocol):
    """The limits the scan enforces (``EmailLimits`` has them)."""

    @property
    def max_parts(self) -> int: ...
    @property
    def max_depth(self) -> int: ...
    @property
    def max_headers(self) -> int: ...
    @property
    def max_header_bytes(self) -> int: ...
    @property
    def max_line_bytes(self) -> int: ...


def _content_type(value: str | None, digest_parent: bool) -> tuple[str, str | None]:
    """The content type and boundary, read with the stdlib's own parameter parser."""
    probe = email.message.Message()
    if digest_parent:
        probe.set_default_type("message/rfc822")
    if value is not None:
        probe["Content-Type"] = value
    boundary = probe.get_boundary() if probe.get_content_maintype() == "multipart" else None
    return probe.get_content_type(), boundary


def _boundary_bytes(boundary: str) -> bytes:
    """The boundary as the parser matches it (lines are ASCII with surrogate escapes);
    one it can never match (a decoded non-ASCII character) becomes a line break, which
    no boundary line contains."""
    try:
        return boundary.encode("ascii", "surrogateescape")
    except UnicodeEncodeError:
        return b"\n"


class _Scan:
    def __init__(self, raw: bytes, limits: ScanLimits) -> None:
        self.raw = raw
        self.limits = limits
        self.parts = 0
        self.depth = 0
        # Open multiparts, innermost last: (boundary, depth of their children, is digest).
        self.stack: list[tuple[bytes, int, bool]] = []

    def _line_end(self, pos: int) -> int:
        end = self.raw.find(b"\n", pos)
        return len(self.raw) if end < 0 else end + 1

    def _count_part(self) -> None:
        self.parts += 1
        if self.parts > self.limits.max_parts:
            raise MessageFormatError(
                f"e-mail has more than {self.limits.max_parts} MIME parts "
                "(refused while scanning, before parsing)"
            )

    def _check_depth(self, depth: int, offset: int) -> None:
        self.depth = max(self.depth, depth)
        if depth > self.limits.max_depth:
            raise MessageFormatError(
                f"e-mail nests MIME parts deeper than {self.limits.max_depth} levels "
                f"(at byte {offset})"
            )

    def _headers(self, pos: int) -> tuple[int, str | None]:
        """Read one header block from ``pos``; return where its body starts and its
        first Content-Type value."""
        raw, limits = self.raw, self.limits
        count = 0
        field_start = -1
        content_type: str | None = None
        current: list[bytes] = []
        while pos < len(raw):
            end = self._line_end(pos)
            line = raw[pos:end]
            if end - pos > limits.max_line_bytes:
                raise MessageFormatError(
                    f"e-mail header line at byte {pos} is longer than {limits.max_line_bytes} bytes"
                )
            stripped = line.rstrip(b"\r\n")
            if not stripped:
                pos = end
                break
            if stripped[:1] in (b" ", b"\t") and field_start >= 0:
                current.append(stripped)
            elif b":" in stripped and not stripped.startswith(b"--"):
                content_type = self._field(current, content_type)
                count += 1
                if count > limits.max_headers:
                    raise MessageFormatError(
                        f"e-mail part at byte {pos} has more than {limits.max_headers} "
                        "header fields"
                    )
                field_start = pos
                current = [stripped]
            else:
                break  # not a header line: the body starts here (as the parser does)
            if end - field_start > limits.max_header_bytes:
                raise MessageFormatError(
                    f"e-mail header field at byte {field_start} is longer than "
                    f"{limits.max_header_bytes} bytes"
                )
            pos = end
        return pos, self._field(current, content_type)

    @staticmethod
    def _field(lines: list[bytes], found: str | None) -> str | None:
        if found is not None or not lines:
            return found
        name, _, value = lines[0].partition(b":")
        if name.strip().lower() != b"content-type":
            return None
        text = b" ".join([value, *lines[1:]]).decode("ascii", "surrogateescape")
        return " ".join(text.split())

    def _next_boundary(self, pos: int) -> tuple[int, int, bool] | None:
        """The next boundary line of an open multipart at or after ``pos``:
        (index in the stack, offset after the line, is closing)."""
        raw, limits = self.raw, self.limits
        index = {boundary: i for i, (boundary, _, _) in enumerate(self.stack)}
        search = pos
        while True:
            if search == 0 or raw[search - 1 : search] == b"\n":
                start = search if raw.startswith(b"--", search) else raw.find(b"\n--", search)
            else:
                start = raw.find(b"\n--", search)
            if start < 0:
                self._check_lines(pos, len(raw))
                return None
            if raw[start : start + 1] == b"\n":
                start += 1
            self._check_lines(pos, start)
            end = self._line_end(start)
            if end - start > limits.max_line_bytes:
                raise MessageFormatError(
                    f"e-mail line at byte {start} is longer than {limits.max_line_bytes} bytes"
                )
            token = raw[start + 2 : end].rstrip(b"\r\n").rstrip(b" \t")
            hit = index.get(token)
            if hit is not None:
                return hit, end, False
            if token.endswith(b"--"):
                hit = index.get(token[:-2])
                if hit is not None:
                    return hit, end, True
            pos = search = end

    def _check_lines(self, start: int, stop: int) -> None:
        """Refuse a body line longer than the limit between ``start`` and ``stop``."""
        limit = self.limits.max_line_bytes
        if stop - start <= limit:
            return
        raw = self.raw
        pos = start
        while pos < stop:
            end = raw.find(b"\n", pos, stop)
            end = stop if end < 0 else end + 1
            if end - pos > limit:
                raise MessageFormatError(f"e-mail line at byte {pos} is longer than {limit} bytes")
            pos = end

    def run(self) -> None:
        pos, depth, digest = 0, 0, False
        while True:
            self._count_part()
            pos, value = self._headers(pos)
            ctype, boundary = _content_type(value, digest)
            if boundary is not None:
                self._check_depth(depth + 1, pos)
                self.stack.append(
                    (
                        _boundary_bytes(boundary),
                        depth + 1,
                        ctype == "multipart/digest",
                    )
                )
            elif ctype == "message/delivery-status":
                hit = self._next_boundary(pos)
                stop = len(self.raw) if hit is None else hit[1]
                for _ in range(
                    self.raw.count(b"\n\n", pos, stop) + self.raw.count(b"\r\n\r\n", pos, stop)
                ):
                    self._count_part()
                found = self._follow(hit)
                if found is None:
                    return
                pos, depth, digest = found
                continue
            elif ctype.startswith("message/"):
                depth += 1
                self._check_depth(depth, pos)
                digest = False
                continue  # the body is a nested message: read its headers now
            found = self._follow(self._next_boundary(pos))
            if found is None:
                return
            pos, depth, digest = found

    def _follow(self, hit: tuple[int, int, bool] | None) -> tuple[int, int, bool] | None:
        """Move past boundary lines until the next part starts; ``None`` at the end."""
        while hit is not None:
            level, after, closing = hit
            del self.stack[level + 1 :]  # an outer boundary ends every inner multipart
            if not closing:
                _, depth, digest = self.stack[level]
                return after, depth, digest
            del self.stack[level]
            if not self.stack:
                self._check_lines(after, len(self.raw))
                return None
            hit = self._next_boundary(after)
        return None


def scan_mime(raw: bytes, limits: ScanLimits) -> MimeShape:
    """Refuse ``raw`` if its MIME structure passes a limit; linear in ``len(raw)``.

    Returns:
        The counted shape (within the limits).

    Raises:
        MessageFormatError: too many parts or header fields, too deep, a header field
            or a line too long (the message says which and at which byte).
    """
    scan = _Scan(raw, limits)
    scan.run()
    return MimeShape(scan.parts, scan.depth)
