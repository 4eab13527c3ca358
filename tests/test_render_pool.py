"""The render pool: how many workers, and the in-process path that renders lazily and in order."""

from __future__ import annotations

import pytest

from eage.render_pool import MAX_WORKERS, PARALLEL_FROM, RenderPool, render_workers


def test_a_small_month_renders_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EAGE_RENDER_WORKERS", raising=False)
    assert render_workers(0) == 1
    assert render_workers(PARALLEL_FROM - 1) == 1
    assert 1 <= render_workers(PARALLEL_FROM) <= MAX_WORKERS
    assert render_workers(10_000) <= MAX_WORKERS


@pytest.mark.parametrize(("value", "count", "expected"), [("3", 100, 3), ("2", 1, 1), ("1", 500, 1)])
def test_eage_render_workers_overrides_the_count(
    monkeypatch: pytest.MonkeyPatch, value: str, count: int, expected: int
) -> None:
    monkeypatch.setenv("EAGE_RENDER_WORKERS", value)
    assert render_workers(count) == expected


@pytest.mark.parametrize("value", ["", "0", "-2", "many"])
def test_a_meaningless_eage_render_workers_is_ignored(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("EAGE_RENDER_WORKERS", value)
    assert render_workers(5) == 1


def test_in_process_jobs_run_when_read_in_order_and_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EAGE_RENDER_WORKERS", raising=False)
    calls: list[int] = []

    def job(n: int) -> int:
        calls.append(n)
        return n * n

    with RenderPool(3) as pool:
        assert pool.workers == 1
        pending = [pool.submit(job, n) for n in (1, 2, 3)]
        assert calls == []  # nothing rendered before it is asked for
        assert pending[0].result() == 1
        assert calls == [1]  # a caller that stops at the first failure renders nothing after it
        assert [p.result() for p in pending] == [1, 4, 9]
        assert pending[1].result() == 4
    assert calls == [1, 2, 3]


def test_workers_start_at_once_and_collect_garbage_between_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The workers are spawned with the pool (they warm up while the caller goes on); in a worker the
    automatic collector is off during a job, what the warm-up built is frozen, and each job's garbage is
    collected when it ends."""
    import gc

    monkeypatch.setenv("EAGE_RENDER_WORKERS", "2")
    with RenderPool(2) as pool:
        assert pool.workers == 2
        executor = pool._executor  # what the pool spawned, before any job
        assert executor is not None and len(executor._processes) == 2
        assert pool.submit(gc.isenabled).result() is False
        assert pool.submit(gc.get_freeze_count).result() > 0
        assert pool.submit(sorted, [3, 1, 2]).result() == [1, 2, 3]
    assert gc.isenabled()  # the calling process is untouched
