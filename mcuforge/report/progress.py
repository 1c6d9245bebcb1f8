"""Progress bars for the slow steps (emulator measurement, calibration): on stderr, only when stderr is a terminal
and the user did not ask for quiet, so logs, pipes and CI stay clean."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")


def progress_enabled(quiet: bool = False) -> bool:
    return not quiet and sys.stderr.isatty()


def progress(items: Iterable[T], desc: str, quiet: bool = False, total: int | None = None) -> Iterator[T]:
    """`items`, with a bar on stderr (none when quiet or not a TTY)."""
    return iter(tqdm(items, desc=desc, total=total, disable=not progress_enabled(quiet), leave=False,
                     file=sys.stderr, unit="step", dynamic_ncols=True))


@contextmanager
def steps(desc: str, total: int, quiet: bool = False):
    """A bar advanced by hand: `with steps("measure", 2) as bar: ...; bar.set_postfix_str("count"); bar.update()`."""
    bar = tqdm(total=total, desc=desc, disable=not progress_enabled(quiet), leave=False, file=sys.stderr,
               unit="step", dynamic_ncols=True)
    try:
        yield bar
    finally:
        bar.close()
