"""Bulk import of historical tickets: checked as a batch, stored at store speed, no
live automation."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from csmkit.desk._core import DeskKernel
from csmkit.desk._due import committed_due
from csmkit.desk._types import TicketType
from csmkit.errors import AutomationError, ConcurrencyError, CsmkitError, StorageError
from csmkit.storage import SlaDue, TicketStore
from csmkit.timeline import Timeline

__all__ = ["check_import", "import_timelines", "store_import"]

logger = logging.getLogger(__name__)


def check_import(
    timelines: Iterable[object],
    types: Mapping[str, TicketType],
    store: TicketStore,
) -> list[Timeline]:
    """The batch as timelines, every one checked before anything is written.

    Raises:
        AutomationError: every problem of the batch, each with its place
            (``timelines[3]: ...``): not a timeline (or its dict form), an unknown
            ticket type, a status the type's workflow does not have, a ticket id given
            twice or already in the store.
    """
    if isinstance(timelines, (str, bytes, Mapping)):
        raise AutomationError(
            f"import_timelines: expected an iterable of timelines, got {type(timelines).__name__}"
        )
    batch: list[Timeline] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(timelines):
        where = f"timelines[{index}]"
        if isinstance(item, Timeline):
            timeline = item
        elif isinstance(item, Mapping):
            try:
                timeline = Timeline.from_dict(item)
            except CsmkitError as exc:
                problems.append(f"{where}: {exc}")
                continue
        else:
            problems.append(f"{where}: expected a Timeline or its dict form, got {item!r:.60}")
            continue
        ticket = timeline.ticket
        kind = types.get(ticket.type)
        if kind is None:
            problems.append(
                f"{where} (ticket {ticket.id!r}): unknown ticket type {ticket.type!r}; "
                f"the desk knows {', '.join(sorted(types))}"
            )
        elif ticket.status not in {s.name for s in kind.workflow.states}:
            problems.append(
                f"{where} (ticket {ticket.id!r}): status {ticket.status!r} is not a state of "
                f"workflow {kind.workflow.name!r}"
            )
        if ticket.id in seen:
            problems.append(f"{where}: ticket {ticket.id!r} is also timelines[{seen[ticket.id]}]")
        else:
            seen[ticket.id] = index
            if store.version(ticket.id) > 0:
                problems.append(f"{where}: ticket {ticket.id!r} is already in the store")
        batch.append(timeline)
    if problems:
        raise AutomationError(
            f"import_timelines: {len(problems)} problem(s), nothing was imported:\n  - "
            + "\n  - ".join(problems)
        )
    return batch


def store_import(batch: list[Timeline], store: TicketStore, dues: Sequence[SlaDue | None]) -> None:
    """Append each checked timeline as a new stream (expected version 0), with its SLA
    due mark (``dues[i]`` for ``batch[i]``).

    Raises:
        ConcurrencyError: a writer created one of the ids since the check.
        StorageError: the store refused a stream (text it cannot store, an I/O
            error). Either message says which tickets were stored before it, so the
            rest can be imported again.
    """
    for index, timeline in enumerate(batch):
        try:
            store.append(timeline.ticket_id, timeline.events, 0, due=dues[index])
        except CsmkitError as exc:
            done = [t.ticket_id for t in batch[:index]]
            shown = ", ".join(done[:5]) + (" ..." if len(done) > 5 else "")
            message = (
                f"import_timelines: ticket {timeline.ticket_id!r} (timelines[{index}]) was "
                f"refused by the store ({exc}); {index} ticket(s) before it were stored"
                + (f" ({shown})" if done else "")
                + f", {len(batch) - index} were not"
            )
            if isinstance(exc, ConcurrencyError):
                raise ConcurrencyError(message, ticket_id=timeline.ticket_id) from exc
            raise StorageError(message) from exc


def import_timelines(kernel: DeskKernel, timelines: Iterable[Timeline | Mapping[str, Any]]) -> int:
    """[`ServiceDesk.import_timelines()`][csmkit.desk.ServiceDesk.import_timelines]."""
    with kernel.lock:
        batch = check_import(timelines, kernel.types, kernel.store)
        # Each ticket's SLA due mark goes with it (evaluated before anything is written).
        dues = [committed_due(timeline, kernel.types, kernel.calendar) for timeline in batch]
        store_import(batch, kernel.store, dues)
        for timeline in batch:
            kernel.scheduler.imported(timeline)
            kernel.routing.observe(timeline)
        logger.info("imported %d historical ticket(s)", len(batch))
        return len(batch)
