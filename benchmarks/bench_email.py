"""E-mail parsing cost against size, for normal and hostile messages.

Run:  python benchmarks/bench_email.py [--quick]

For each message it prints the size, csmkit's ``EmailParser.parse`` time (or the error
it refuses the message with), the time of the stdlib's unbounded parse
(``email.message_from_bytes`` with ``policy.default``, then walking every part, which is
what a naive intake does), and their ratio. Then the peak memory (``tracemalloc``) of
parsing a 20 MB message with a base64 attachment, as a multiple of its size.

Shapes:

* ``normal``: a text body plus one base64 attachment of the given size;
* ``nesting``: multiparts nested N deep (the 58 KB, 1,000-level bomb of issue 15);
* ``parts``: N sibling parts in one multipart (a part bomb);
* ``line``: one body line of the given size.

csmkit refuses the hostile shapes after a linear pre-scan (limits: depth 20, 200 parts,
1 MiB lines); its time should grow linearly with size and stay far below the stdlib's.
"""

from __future__ import annotations

import argparse
import base64
import email
import email.policy
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import datetime, timezone

from csmkit.channels import EmailLimits, EmailParser
from csmkit.errors import MessageFormatError

AT = datetime(2026, 10, 8, tzinfo=timezone.utc)
HEAD = b"From: a@example.cn\r\nTo: support@example.com\r\nSubject: bench\r\n"


def normal(size: int) -> bytes:
    payload = base64.encodebytes(bytes(range(256)) * (size * 3 // 4 // 256 + 1))[:size]
    return (
        HEAD + b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        + "空调不制冷，请上门维修。\r\n".encode()
        * 20
        + b"--b\r\nContent-Type: application/octet-stream\r\n"
        b'Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename="a.bin"'
        b"\r\n\r\n" + payload.replace(b"\n", b"\r\n") + b"\r\n--b--\r\n"
    )


def nesting(levels: int) -> bytes:
    parts = [
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
        for i in range(levels)
    ]
    return HEAD + b"".join(parts) + b"Content-Type: text/plain\r\n\r\nhi\r\n"


def parts(count: int) -> bytes:
    body = b"".join(b"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n" for _ in range(count))
    return HEAD + b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n' + body + b"--b--\r\n"


def line(size: int) -> bytes:
    return HEAD + b"Content-Type: text/plain\r\n\r\n" + b"x" * size + b"\r\n"


def _timed(action: Callable[[], object]) -> tuple[float, str]:
    start = time.perf_counter()
    try:
        action()
        outcome = "ok"
    except MessageFormatError as exc:
        outcome = f"refused: {str(exc)[:46]}"
    except RecursionError:
        outcome = "RecursionError"
    return time.perf_counter() - start, outcome


def _stdlib(raw: bytes) -> None:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    for part in message.walk():
        part.get_payload(decode=True)


def run(quick: bool) -> None:
    parser = EmailParser(limits=EmailLimits(max_bytes=64 * 1024 * 1024))
    cases: list[tuple[str, Callable[[int], bytes], list[int]]] = [
        ("normal", normal, [1_000_000, 5_000_000] if quick else [1_000_000, 5_000_000, 20_000_000]),
        ("nesting", nesting, [100, 1_000] if quick else [100, 1_000, 5_000]),
        ("parts", parts, [1_000, 5_000] if quick else [1_000, 5_000, 10_000]),
        ("line", line, [1_000_000, 5_000_000] if quick else [1_000_000, 5_000_000, 20_000_000]),
    ]
    print(
        f"{'shape':8} {'N':>10} {'bytes':>11} {'csmkit s':>9} {'stdlib s':>9} {'ratio':>7}  outcome"
    )
    for name, build, sizes in cases:
        for size in sizes:
            raw = build(size)
            ours, outcome = _timed(lambda raw=raw: parser.parse(raw, received_at=AT))
            limit = sys.getrecursionlimit()
            theirs, their_outcome = _timed(lambda raw=raw: _stdlib(raw))
            sys.setrecursionlimit(limit)
            ratio = ours / theirs if theirs else float("nan")
            print(
                f"{name:8} {size:>10} {len(raw):>11} {ours:>9.4f} {theirs:>9.4f} {ratio:>7.3f}"
                f"  csmkit {outcome}; stdlib {their_outcome}"
            )
    raw = normal(5_000_000 if quick else 20_000_000)
    tracemalloc.start()
    parser.parse(raw, received_at=AT)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"peak memory parsing a {len(raw) / 1e6:.0f} MB message: {peak / len(raw):.2f}x its size")


def main() -> None:
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--quick", action="store_true", help="smaller sizes")
    run(arguments.parse_args().quick)


if __name__ == "__main__":
    main()
