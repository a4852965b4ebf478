"""Work spread over the machine's cores: a catalogue's per-SLO files are independent, so a large render
maps them over worker processes forked from the generator (they inherit the loaded catalogue and every
cache; only the results travel back, pickled). The results come back in the order of the items, so
the output is the same bytes whatever the number of workers; a small catalogue, a machine of one core,
a platform without fork, or KFM_JOBS=1 computes in this process.

An exception in a worker (a definition error found while rendering, a bug) is raised here, as it would
have been without workers."""
from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
import sys
from typing import Callable, Sequence, TypeVar

T = TypeVar("T")
R = TypeVar("R")

JOBS_VARIABLE = "KFM_JOBS"
MIN_ITEMS = 64          # below this, forking costs more than it saves
NEVER = sys.maxsize     # a min_items that keeps the work in this process
CHUNKS_PER_WORKER = 4   # items are handed out in this many chunks per worker: uneven items even out

_work: list[Callable[[], object]] = []   # what the forked workers run, by index (inherited, not pickled)


def workers() -> int:
    """How many processes may compute at once: KFM_JOBS, else the cores this process may use."""
    value = os.environ.get(JOBS_VARIABLE, "").strip()
    if value:
        try:
            return max(1, int(value))
        except ValueError:
            raise SystemExit(f"error: {JOBS_VARIABLE}={value!r} is not a number of processes") from None
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:   # not on Linux
        return os.cpu_count() or 1


def _can_fork() -> bool:
    return sys.platform == "linux" and "fork" in multiprocessing.get_all_start_methods()


def _run(index: int) -> object:
    try:
        return _work[index]()
    except Exception as error:
        try:   # an exception that does not survive pickling would hang the pool: say what it was instead
            pickle.loads(pickle.dumps(error))
        except Exception:   # noqa: BLE001
            raise RuntimeError(f"{type(error).__name__}: {error}") from None
        raise


def map_items(compute: Callable[[T], R], items: Sequence[T], min_items: int = MIN_ITEMS,
              alike: Callable[[T], str] | None = None) -> list[R]:
    """[compute(item) for item in items], spread over worker processes when there are enough items.
    `alike`: items of the same key share what `compute` caches (an SLO's simulated scenarios): they
    are handed out together, so that a worker, rather than every worker, computes what they share."""
    count = min(workers(), len(items))
    if count < 2 or len(items) < min_items or not _can_fork() or _work:   # _work: already inside a map
        return [compute(item) for item in items]
    order = sorted(range(len(items)), key=lambda i: alike(items[i])) if alike else list(range(len(items)))
    # Alike items: one contiguous share per worker, so that what a key's items share is computed in one
    # worker (in two at most, where a share ends inside a key), not in whichever worker takes each of
    # its chunks (1,000 SLOs of 5 shapes: 1.5 CPU-s less); uneven items then even out less.
    size = -(-len(items) // (count * (1 if alike else CHUNKS_PER_WORKER)))
    chunks = [[items[i] for i in order[start:start + size]] for start in range(0, len(order), size)]
    def task(chunk: Sequence[T]) -> Callable[[], list[R]]:
        return lambda: [compute(item) for item in chunk]
    _work[:] = [task(chunk) for chunk in chunks]
    # The workers share the parent's heap until they write to it, and the cyclic collector writes to every
    # object it examines: frozen, the heap is not examined in them (nor copied page by page for it).
    frozen_here = gc.get_freeze_count() == 0
    gc.freeze()
    try:
        with multiprocessing.get_context("fork").Pool(count) as pool:
            results = pool.map(_run, range(len(chunks)), chunksize=1)
    finally:
        _work.clear()
        if frozen_here:
            gc.unfreeze()
    found: list[R] = [None] * len(items)  # type: ignore[list-item]
    for index, result in zip(order, (result for chunk in results for result in chunk)):  # type: ignore[attr-defined]
        found[index] = result
    return found
