"""The bot's standard output, written so that a kill never leaves half a block."""

from __future__ import annotations

import io
import logging
import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TextIO

log = logging.getLogger(__name__)

# C0/C1 control characters (ANSI escapes included) must never reach the terminal from a feed.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean(text: str) -> str:
    """Feed text made safe to print: no control characters or escape sequences."""
    return _CONTROL.sub("", text)


class Terminal:
    """Writes each block straight to the stream's file with one ``os.write``; a HeldOutput.

    Python's buffer would hold part of a block when the process is killed; a single write
    (atomic on a pipe up to 4 KB) leaves the block either out in full or not at all. Writes
    held by ``holding`` belong to the task holding them, so another task's output meanwhile
    goes out as usual. Streams without a file (tests' StringIO) get an ordinary write. A
    closed or broken output is logged, never raised: the record of what was shown stands.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream if stream is not None else sys.stdout
        self._encoding = self._stream.encoding or "utf-8"
        self._held: ContextVar[list[bytes] | None] = ContextVar("held", default=None)

    def write(self, block: str) -> None:
        """Write one block now, or keep it when this task is holding its output."""
        data = block.encode(self._encoding, errors="replace")
        held = self._held.get()
        if held is not None:
            held.append(data)
            return
        self._stream.flush()
        self._out(data)

    @contextmanager
    def holding(self) -> Iterator[Callable[[], None]]:
        """Keep this task's writes; the callable yielded writes them, in one go, when called.

        The callable does nothing but ``os.write`` (everything is encoded already), so it can
        run on any thread, right after a commit.
        """
        held: list[bytes] = []
        token = self._held.set(held)
        try:
            yield lambda: self._out(b"".join(held))
        finally:
            self._held.reset(token)
            self._stream.flush()

    def _out(self, data: bytes) -> None:
        if not data:
            return
        try:
            descriptor = self._stream.fileno()
        except (AttributeError, OSError, io.UnsupportedOperation):
            self._stream.write(data.decode(self._encoding))
            self._stream.flush()
            return
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(descriptor, view) :]
        except OSError as exc:
            log.error("could not write to the terminal (%s); the output is lost", exc)
