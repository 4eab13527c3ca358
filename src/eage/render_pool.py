"""Where a run's PDFs are laid out: in the calling process, or in a pool of processes for a large month.

WeasyPrint lays out one page in about a fifth of a second and holds the GIL while it does, so a month of
300 invoices and 60 payslips is CPU-bound Python. A :class:`RenderPool` spreads those jobs over the
machine's cores (at most :data:`MAX_WORKERS`):

- The pool is started as soon as the run knows how many documents it will render, and its processes are
  spawned at once (``ProcessPoolExecutor`` would spawn them only at the first job); each worker warms up
  with the function the caller gives (for invoices: imports WeasyPrint, compiles the XSD and both
  schematrons): that second or two overlaps the main process's own work.
- In a worker, Python's cyclic garbage collector does not run during a job: what the warm-up built is
  frozen (``gc.freeze``), and the garbage of a job is collected once, when it ends. A page laid out by
  WeasyPrint allocates hundreds of thousands of objects, and the automatic collections it triggered
  (each one walking the whole young heap again) cost about an eighth of a worker's time.
- Jobs are submitted one by one (no chunks), so the two workers finish together; results are read in
  submission order, so the output does not depend on which worker rendered what.
- Below :data:`PARALLEL_FROM` documents the jobs run in the calling process, lazily and in order, as
  before: starting workers would cost more than it saves, and the first failing invoice stops the rest.

The bytes of a document never depend on the process that renders it (no clock, no random value, no state
shared between documents), so a month rendered in parallel is byte-identical to one rendered in process.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from types import TracebackType
from typing import Generic, Protocol, TypeVar

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

#: Below this many documents a run renders in the calling process: starting workers (each imports
#: WeasyPrint and compiles the schematrons, a second or two) would cost more than it saves.
PARALLEL_FROM = 40
#: At most this many worker processes (the machines eage runs on have two cores or more).
MAX_WORKERS = 2


class Pending(Protocol[T_co]):
    """A job's result, awaited with :meth:`result` (a ``concurrent.futures.Future`` or a deferred call)."""

    def result(self, timeout: float | None = None) -> T_co: ...  # float ok: seconds


class _Deferred(Generic[T]):
    """A job run in the calling process when its result is first asked for (then kept)."""

    def __init__(self, fn: Callable[..., T], args: tuple[object, ...]) -> None:
        self._fn = fn
        self._args = args
        self._done = False
        self._value: T | None = None

    def result(self, timeout: float | None = None) -> T:  # float ok: seconds, unused in process
        if not self._done:
            self._value = self._fn(*self._args)
            self._done = True
            self._args = ()
        return self._value  # type: ignore[return-value]


def render_workers(count: int) -> int:
    """How many processes render ``count`` documents: ``EAGE_RENDER_WORKERS`` if set, else up to
    :data:`MAX_WORKERS` CPUs for at least :data:`PARALLEL_FROM` documents, else 1 (in process)."""
    configured = os.environ.get("EAGE_RENDER_WORKERS", "").strip()
    if configured.isdigit() and int(configured) > 0:
        return min(int(configured), max(count, 1))
    if count < PARALLEL_FROM:
        return 1
    return max(1, min(MAX_WORKERS, os.cpu_count() or 1))


def _start_worker(warm_up: Callable[[], None] | None) -> None:
    """A worker's initializer: ``warm_up``, then what it built frozen and the automatic collector off
    (see the module docstring; :func:`_run_job` collects after each job)."""
    if warm_up is not None:
        warm_up()
    gc.collect()
    gc.freeze()
    gc.disable()


def _run_job(fn: Callable[..., T], args: tuple[object, ...]) -> T:
    """One job in a worker: ``fn(*args)``, then its garbage collected (the automatic collector is off)."""
    try:
        return fn(*args)
    finally:
        gc.collect()


def _ready() -> None:
    """The no-op job each worker is spawned with (see :meth:`RenderPool.__init__`)."""


def warm_up_weasyprint() -> None:
    """A worker's initializer for other PDFs (budget statements): WeasyPrint imported."""
    import weasyprint  # noqa: F401


class RenderPool:
    """Render jobs for ``count`` documents, in ``render_workers(count)`` processes; use it as a context
    manager (leaving it stops the workers and drops the jobs not started yet).

    ``warm_up``: what each worker does first (a module-level function, e.g.
    :func:`eage.invoicing.pdf.warm_up_documents`), while the caller goes on; None: nothing. It is an
    argument so that this module imports nothing of what it renders.
    """

    def __init__(self, count: int, warm_up: Callable[[], None] | None = None) -> None:
        self.workers = render_workers(count)
        self._executor: ProcessPoolExecutor | None = None
        if self.workers > 1:
            # "spawn": a fresh interpreter, not a fork of one that holds a loaded ledger and Saxon's threads.
            self._executor = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(warm_up,),
            )
            # One no-op job per worker spawns them all now, so they warm up while the caller goes on.
            for _ in range(self.workers):
                self._executor.submit(_ready)

    def submit(self, fn: Callable[..., T], *args: object) -> Pending[T]:
        """Queue ``fn(*args)`` (a module-level function with picklable arguments) and return its pending result."""
        if self._executor is None:
            return _Deferred(fn, args)
        future: Future[T] = self._executor.submit(_run_job, fn, args)
        return future

    def close(self, *, wait: bool = True) -> None:
        """Stop the workers; jobs not started are cancelled, the ones running are awaited (``wait``: and
        the workers' exit too; without it they exit in the background while the caller goes on)."""
        if self._executor is not None:
            self._executor.shutdown(wait=wait, cancel_futures=True)
            self._executor = None

    def __enter__(self) -> RenderPool:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        # After a failure, every job still running is awaited; after a success no job is left, and the
        # workers' exit (a few tenths of a second: Saxon and WeasyPrint torn down) overlaps the commit.
        self.close(wait=kind is not None)
