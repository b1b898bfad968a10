"""The desk's outcome runner: what stored outcomes ask for, beyond their events, in one loop.

An operation commits and returns its outcomes (their notifications are already queued
in the kernel's outbox, in the order of the stores); the runner takes the outcomes in
order and runs the follow-up commands each asks for: a requested ticket through the
[ticket operations][csmkit.desk._tickets.TicketOperations], a problem record through
[`ProblemsAndFeedback`][csmkit.desk._problems.ProblemsAndFeedback]. Those commands return
their own outcomes, which join the queue: no part calls back into another's caller.
Then [`Deliveries`][csmkit.desk._delivery.Deliveries] sends the outbox, after the desk's
lock is released.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import TypeVar

from csmkit.automation import Outcome, ProblemRequest, TicketRequest
from csmkit.desk._delivery import Deliveries
from csmkit.desk._problems import ProblemsAndFeedback
from csmkit.desk._tickets import TicketOperations

__all__ = ["OutcomeRunner"]

T = TypeVar("T")


class OutcomeRunner:
    """Runs stored outcomes' follow-up commands, then sends the outbox (see the module
    docstring).

    Args:
        deliveries: Sends the outbox's notifications.
        tickets: Opens requested tickets.
        problems: Opens requested problem records.
    """

    def __init__(
        self, deliveries: Deliveries, tickets: TicketOperations, problems: ProblemsAndFeedback
    ) -> None:
        self._deliveries = deliveries
        self._tickets = tickets
        self._problems = problems

    def run(self, outcomes: Iterable[Outcome]) -> list[str]:
        """Run the follow-up commands of ``outcomes`` and of theirs, oldest first (no
        delivery: see `after()`); the ids of the tickets they created."""
        created: list[str] = []
        pending: deque[Outcome] = deque(outcomes)
        while pending:
            outcome = pending.popleft()
            commands: list[TicketRequest | ProblemRequest] = [*outcome.tickets, *outcome.problems]
            for command in commands:
                if isinstance(command, TicketRequest):
                    made, more = self._tickets.create_requested(command)
                else:
                    made, more = self._problems.requested(command)
                created.extend(made)
                pending.extend(more)
        return created

    def after(self, done: tuple[T, Iterable[Outcome]]) -> T:
        """Finish a command whose result is ``(value, outcomes)``, called without the
        desk's lock held: run the outcomes' follow-ups, send the outbox; the value."""
        value, outcomes = done
        self.run(outcomes)
        self._deliveries.flush()
        return value
