"""One parser worker process: ``python -m bot.ingest.parse_worker MEMORY_LIMIT_BYTES PARENT_PID``.

Started by ``ParserPool`` as a fresh interpreter, so it imports the parser and nothing else of
the bot (no spaCy, no SQLAlchemy: ~30 MB instead of ~200 MB). Requests and answers are pickles
framed by an 8-byte length, on stdin and the original stdout. It dies with the bot: a
parent-death signal covers a ``kill -9`` mid-parse, end-of-file on stdin covers the idle wait.
"""

from __future__ import annotations

import ctypes
import os
import pickle
import resource
import signal
import struct
import sys
from typing import Any, BinaryIO

_FRAME = struct.Struct("!Q")
_PR_SET_PDEATHSIG = 1


def main(argv: list[str]) -> None:
    """Serve parse requests until stdin closes or the parent goes away."""
    # Ctrl+C reaches the whole process group; the bot handles it, the workers must not.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    limit_bytes, parent = int(argv[1]), int(argv[2])
    _die_with_parent(parent)
    # Imported only now so a Ctrl+C during start-up prints no traceback from here.
    from bot.core.errors import FeedParseError  # noqa: PLC0415
    from bot.ingest.parse import parse_feed  # noqa: PLC0415

    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    # Anything a library prints goes to stderr and cannot corrupt the answer stream.
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    _limit_memory(limit_bytes)
    # Start-up (imports) is not parse time: the pool's clock starts after this.
    _write_frame(answers, ("ready", None))
    requests = sys.stdin.buffer
    while (request := _read_frame(requests)) is not None:
        body, headers, url = pickle.loads(request)  # noqa: S301 - our own parent wrote it
        try:
            answer: tuple[str, Any] = ("ok", parse_feed(body, headers, url))
        except FeedParseError as exc:
            answer = ("refused", str(exc))
        except MemoryError:
            # The heap may be in any state now: answer, then let the pool start a fresh worker.
            _write_frame(answers, ("fatal", "the feed needs more memory than the parser may use"))
            return
        _write_frame(answers, answer)


def _die_with_parent(parent: int) -> None:
    """Ask Linux to SIGKILL this process when the bot dies, then close the race with its exit."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        sys.exit(0)


def _limit_memory(limit_bytes: int) -> None:
    """Cap the address space so a parser bomb fails here (B2, F5), after the imports fit."""
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit_bytes = min(limit_bytes, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, hard))


def _read_frame(stream: BinaryIO) -> bytes | None:
    """One length-prefixed request, or None at end of file (the bot closed the pipe or died)."""
    header = stream.read(_FRAME.size)
    if len(header) < _FRAME.size:
        return None
    (size,) = _FRAME.unpack(header)
    payload = stream.read(size)
    return payload if len(payload) == size else None


def _write_frame(stream: BinaryIO, answer: tuple[str, Any]) -> None:
    """One length-prefixed answer, flushed at once: the pool is waiting for it."""
    payload = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_FRAME.pack(len(payload)) + payload)
    stream.flush()


if __name__ == "__main__":
    main(sys.argv)
