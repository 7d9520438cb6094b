"""Ctrl-C that waits for bookkeeping to finish.

Bookkeeping such as telling a study that a trial finished must not be cut in the middle:
an interruption there dropped finished trials or left one queued twice. Inside an
:class:`InterruptGate` a SIGINT is recorded, not raised; only a block under
:meth:`InterruptGate.open` (the long work: training) is interrupted at once. A recorded
SIGINT is raised as ``KeyboardInterrupt`` when the next open block starts or the gate is
left, so the user's Ctrl-C is always honoured, just never mid-write.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType, TracebackType
from typing import Any


class InterruptGate:
    """SIGINT deferred while the gate is entered, except inside :meth:`open`. Outside the
    main thread (where Python cannot set signal handlers) it changes nothing."""

    def __init__(self) -> None:
        self.pending = False
        self.is_open = False
        self._previous: Any = None
        self._installed = False

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.is_open:
            raise KeyboardInterrupt
        self.pending = True

    def __enter__(self) -> InterruptGate:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
            self._installed = True
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._installed:
            previous = self._previous if self._previous is not None else signal.default_int_handler
            signal.signal(signal.SIGINT, previous)
            self._installed = False
        if self.pending and kind is None:
            self.pending = False
            raise KeyboardInterrupt

    def check(self) -> None:
        """Raise a recorded Ctrl-C now (between two pieces of bookkeeping)."""
        if self.pending:
            self.pending = False
            raise KeyboardInterrupt

    @contextmanager
    def open(self) -> Iterator[None]:
        """Let Ctrl-C cut the block; one recorded before it is raised at once."""
        self.check()
        self.is_open = True
        try:
            yield
        finally:
            self.is_open = False
