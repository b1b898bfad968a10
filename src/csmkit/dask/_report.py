"""Reports over Dask partitions: each partition folds into a report accumulator, and the
accumulators are merged in a tree (the map-reduce of the issue's "KPIs over 100 million
tickets"). The accumulators' state is a commutative monoid, so the table is identical to
one process's, whatever the partitioning.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from contextlib import ExitStack
from datetime import datetime, timezone, tzinfo
from pathlib import Path
from typing import Any, Literal

import attrs

from csmkit._progress import Progress
from csmkit.errors import CsmkitError, MetricsError
from csmkit.io import (
    ColumnMapping,
    ExportError,
    ExportReport,
    SkippedRow,
    accumulate_export,
    bulk_load,
    load_frame,
)
from csmkit.metrics import ReportAccumulator
from csmkit.timeline import Timeline

__all__ = ["DaskError", "dask_report"]

OnError = Literal["raise", "skip"]


class DaskError(CsmkitError, RuntimeError):
    """Dask is missing, or the source or cluster options cannot be used."""


@attrs.frozen
class _Plan:
    """What every partition needs (shipped to the workers: it pickles)."""

    metrics: tuple[Any, ...]
    options: Mapping[str, Any]
    now: Any
    mapping: ColumnMapping | str | None
    zone: tzinfo
    on_error: OnError
    delimiter: str | None
    kind: Literal["tickets", "events"]

    def accumulator(self) -> ReportAccumulator:
        # The one place that builds the state of a partition: h16-stream's streaming
        # accumulator (csmkit.metrics.ReportAccumulator) with the report's options.
        return ReportAccumulator(list(self.metrics), now=self.now, **self.options)


@attrs.define
class _Part:
    """The result of one partition, or of several merged."""

    accumulator: ReportAccumulator
    skipped: list[SkippedRow]
    ungiven: frozenset[str] | None


def _file_part(path: str, plan: _Plan) -> _Part:
    accumulator = plan.accumulator()
    reader = accumulate_export(
        path,
        accumulator,
        mapping=plan.mapping,
        zone=plan.zone,
        on_error=plan.on_error,
        delimiter=plan.delimiter,
        surveys=plan.options.get("surveys"),
    )
    return _Part(accumulator, list(reader.skipped), reader.ungiven)


def _items_part(items: Iterable[Any], plan: _Plan, index: int) -> _Part:
    accumulator = plan.accumulator()
    with bulk_load():
        for position, item in enumerate(items):
            if isinstance(item, Mapping):
                try:
                    item = Timeline.from_dict(item)
                except CsmkitError as exc:
                    raise ExportError(f"partition {index}, item {position}: {exc}") from None
            elif not isinstance(item, Timeline):
                raise ExportError(
                    f"partition {index}, item {position}: expected a Timeline or its dict "
                    f"form, got {type(item).__name__}"
                )
            accumulator.update(item)
    return _Part(accumulator, [], None)


def _frame_part(frame: Any, plan: _Plan, index: int) -> _Part:
    export = load_frame(
        frame,
        kind=plan.kind,
        mapping=plan.mapping,
        zone=plan.zone,
        on_error=plan.on_error,
        name=f"partition {index}",
    )
    accumulator = plan.accumulator()
    with bulk_load():
        accumulator.update_many(export.timelines)
    return _Part(accumulator, list(export.skipped), export.ungiven)


def _merge(plan: _Plan, *parts: _Part) -> _Part:
    # A new accumulator: a worker keeps its inputs in memory, and a merge that is re-run
    # after a lost worker must find them unchanged, or tickets would count twice.
    out = _Part(plan.accumulator(), [], None)
    for part in parts:
        out.accumulator.merge(part.accumulator)
        out.skipped.extend(part.skipped)
        if part.ungiven is not None:
            out.ungiven = part.ungiven if out.ungiven is None else out.ungiven & part.ungiven
    return out


def _latest(part: _Part) -> datetime | None:
    return part.accumulator.latest


def _settle(part: _Part, now: datetime) -> _Part:
    return _Part(part.accumulator.settle(now), part.skipped, part.ungiven)


def _dask() -> Any:
    try:
        import dask
    except ImportError:  # pragma: no cover - depends on the environment
        raise DaskError('dask_report needs dask: pip install "csmkit[dask]"') from None
    return dask


def _distributed() -> Any:
    try:
        return importlib.import_module("distributed")
    except ImportError:  # pragma: no cover - depends on the environment
        raise DaskError(
            'workers=/scheduler= need dask.distributed: pip install "csmkit[dask]"'
        ) from None


def _partitions(source: Any, plan: _Plan) -> list[Any]:
    """One delayed ``_Part`` per partition of ``source``."""
    dask = _dask()
    delayed = dask.delayed
    module = type(source).__module__
    if module.startswith("dask.bag"):
        return [
            delayed(_items_part, pure=False)(chunk, plan, i)
            for i, chunk in enumerate(source.to_delayed())
        ]
    if module.startswith(("dask.dataframe", "dask_expr")):
        return [
            delayed(_frame_part, pure=False)(frame, plan, i)
            for i, frame in enumerate(source.to_delayed())
        ]
    paths = [source] if isinstance(source, (str, os.PathLike)) else source
    if not isinstance(paths, Sequence) or isinstance(paths, (str, bytes)):
        raise DaskError(
            "source must be export files (a path or a list of paths), a dask bag of "
            f"timelines or a dask DataFrame of tickets, got {type(source).__name__}"
        )
    out = []
    for path in paths:
        if not Path(path).is_file():
            raise ExportError(f"{path}: no such file")
        out.append(delayed(_file_part, pure=False)(str(path), plan))
    return out


def _tree(parts: list[Any], split_every: int, combine: Any) -> Any:
    while len(parts) > 1:
        parts = [combine(*parts[i : i + split_every]) for i in range(0, len(parts), split_every)]
    return parts[0]


def _client(stack: ExitStack, client: Any, scheduler: str | None, workers: int | None) -> Any:
    if client is not None:
        return client
    if scheduler is None and workers is None:
        return None
    distributed = _distributed()
    Client, LocalCluster = distributed.Client, distributed.LocalCluster
    if scheduler is not None:
        try:
            return stack.enter_context(Client(scheduler, timeout="10s"))
        except OSError as exc:
            raise DaskError(f"cannot reach the Dask scheduler {scheduler}: {exc}") from None
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise DaskError(f"workers must be a positive number of processes, got {workers!r}")
    # The workers' statistical profiler samples every thread 100 times a second: it feeds
    # the dashboard's profile page, which a cluster of one call does not serve, and costs
    # pure-Python tasks like ours measurable CPU.
    stack.enter_context(_dask().config.set({"distributed.worker.profile.enabled": False}))
    cluster = stack.enter_context(
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            # A cluster of this call only: its workers' shutdown chatter is not news.
            silence_logs=logging.CRITICAL,
        )
    )
    return stack.enter_context(Client(cluster))


def dask_report(
    source: Any,
    metrics: Sequence[Any],
    *,
    client: Any = None,
    scheduler: str | None = None,
    workers: int | None = None,
    split_every: int = 8,
    mapping: ColumnMapping | str | None = None,
    zone: tzinfo = timezone.utc,
    on_error: OnError = "raise",
    delimiter: str | None = None,
    kind: Literal["tickets", "events"] = "tickets",
    now: datetime | str | None = "latest",
    progress: bool | None = None,
    **options: Any,
) -> ExportReport:
    """The report of [`csmkit.io.report_export()`][csmkit.io.report_export], computed on Dask.

    Each partition is read and folded into a
    [`ReportAccumulator`][csmkit.metrics.ReportAccumulator] on a worker; the accumulators
    are merged ``split_every`` at a time in a tree, and only the merged state comes back.
    The table is identical to the one-process report of the same tickets.

    Args:
        source: Export files (one path or a list: one partition per file), a
            ``dask.bag.Bag`` of [`Timeline`][csmkit.timeline.Timeline] objects or their dict
            forms, or a ``dask.dataframe.DataFrame`` of flat tickets (or events, with
            ``kind="events"``; each partition read by [`load_frame()`][csmkit.io.load_frame]).
        metrics: As in [`csmkit.metrics.report()`][csmkit.metrics.report].
        client: A ``distributed.Client`` to run on.
        scheduler: Address of a running Dask scheduler (``tcp://host:8786``).
        workers: Start a local cluster of this many worker processes for this call.
            Without ``client``, ``scheduler`` and ``workers``, Dask's current scheduler
            runs it (a connected client, else local threads).
        split_every: Accumulators merged per step of the tree.
        mapping: As in [`load_export()`][csmkit.io.load_export].
        zone: As in [`load_export()`][csmkit.io.load_export].
        on_error: As in [`load_export()`][csmkit.io.load_export]; skipped rows come back in
            the result, by file and line.
        delimiter: As in [`load_export()`][csmkit.io.load_export].
        kind: What the rows of a DataFrame are (``"tickets"`` or ``"events"``).
        now: The evaluation instant; ``"latest"`` is the latest event of all tickets.
        progress: Show finished partitions (on a terminal or in Jupyter); ``None``
            decides from the terminal.
        **options: The other options of [`csmkit.metrics.report()`][csmkit.metrics.report].

    Returns:
        An [`ExportReport`][csmkit.io.ExportReport]: the table, the ticket count, the
        skipped rows, ``now`` and the ticket attributes no row gave.

    Raises:
        DaskError: dask is missing, a bad source, ``workers`` or ``scheduler``.
        ExportError: a bad row (strict mode), or no ticket at all.
        MetricsError: as [`csmkit.metrics.report()`][csmkit.metrics.report].

    A ticket id must live in one partition: the merge cannot see a ticket split across
    files (it would count twice), as with [`report_export()`][csmkit.io.report_export].
    """
    if not isinstance(split_every, int) or split_every < 2:
        raise DaskError(f"split_every must be an integer >= 2, got {split_every!r}")
    plan = _Plan(tuple(metrics), dict(options), now, mapping, zone, on_error, delimiter, kind)
    plan.accumulator()  # bad options fail here, before any work is shipped
    parts = _partitions(source, plan)
    if not parts:
        raise ExportError("dask_report: the source has no partitions")
    with ExitStack() as stack:
        active = _client(stack, client, scheduler, workers)
        if active is None:
            dask = _dask()
            combine = dask.delayed(_merge, pure=False)
            top = _tree(parts, split_every, lambda *chunk: combine(plan, *chunk))
            merged: _Part = dask.compute(top)[0]
        else:
            merged = _run(active, plan, parts, split_every, progress)
    if not merged.accumulator.tickets:
        more = f" ({len(merged.skipped)} bad rows skipped)" if merged.skipped else ""
        raise ExportError(f"dask_report: no tickets in the source{more}")
    return ExportReport(
        merged.accumulator.result(),
        merged.accumulator.tickets,
        tuple(merged.skipped),
        merged.accumulator.now,
        merged.ungiven or frozenset(),
    )


def _run(
    client: Any, plan: _Plan, parts: list[Any], split_every: int, progress: bool | None
) -> _Part:
    as_completed = _distributed().as_completed
    futures = client.compute(parts)
    try:
        if plan.now == "latest":
            # The open tickets of each partition are measured on its worker at the latest
            # instant of all partitions, known once every partition is read; only then do
            # the (small) accumulators travel, not the open tickets' timelines.
            latests = [client.submit(_latest, future, pure=False) for future in futures]
            with Progress(len(futures), "partitions", enabled=progress) as bar:
                for _ in as_completed(latests):
                    bar.advance()
            found = [at for at in client.gather(latests) if at is not None]
            if found:
                now = max(found)
                futures = [client.submit(_settle, f, now, pure=False) for f in futures]
            top = _tree(
                futures, split_every, lambda *chunk: client.submit(_merge, plan, *chunk, pure=False)
            )
        else:
            # The whole tree is submitted at once: merges start as soon as their inputs are.
            top = _tree(
                futures, split_every, lambda *chunk: client.submit(_merge, plan, *chunk, pure=False)
            )
            with Progress(len(futures), "partitions", enabled=progress) as bar:
                for _ in as_completed(futures):
                    bar.advance()
        result: _Part = top.result()
    except CsmkitError:
        raise
    except Exception as exc:  # a worker lost, a cluster shut down
        raise MetricsError(f"the Dask computation failed: {type(exc).__name__}: {exc}") from exc
    return result
