"""The desk's outcome runner: what stored outcomes ask for, beyond their events, in one loop.

An operation commits and returns its outcomes; the runner takes them in order, sends
each one's notifications through the [intent runner][csmkit.desk._intents.IntentRunner]
(delivered by [`Deliveries`][csmkit.desk._delivery.Deliveries]) and runs the follow-up
commands it asks for: a requested ticket through the
[ticket operations][csmkit.desk._tickets.TicketOperations], a problem record through
[`ProblemsAndFeedback`][csmkit.desk._problems.ProblemsAndFeedback]. Those commands return
their own outcomes, which join the queue: no part calls back into another's caller.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import TypeVar

from csmkit.automation import Outcome, TicketRequest
from csmkit.desk._intents import IntentRunner
from csmkit.desk._problems import ProblemsAndFeedback
from csmkit.desk._tickets import TicketOperations

__all__ = ["OutcomeRunner"]

T = TypeVar("T")


class OutcomeRunner:
    """Runs stored outcomes' intents and follow-up commands (see the module docstring).

    Args:
        intents: Sends an outcome's notifications and names its follow-up commands.
        tickets: Opens requested tickets.
        problems: Opens requested problem records.
    """

    def __init__(
        self, intents: IntentRunner, tickets: TicketOperations, problems: ProblemsAndFeedback
    ) -> None:
        self._intents = intents
        self._tickets = tickets
        self._problems = problems

    def run(self, outcomes: Iterable[Outcome]) -> list[str]:
        """Run ``outcomes`` and those of their follow-up commands, oldest first; the ids
        of the tickets the follow-ups created."""
        created: list[str] = []
        pending: deque[Outcome] = deque(outcomes)
        while pending:
            _, follow_ups = self._intents.run(pending.popleft())
            for command in follow_ups:
                if isinstance(command, TicketRequest):
                    made, more = self._tickets.create_requested(command)
                else:
                    made, more = self._problems.requested(command)
                created.extend(made)
                pending.extend(more)
        return created

    def after(self, done: tuple[T, Iterable[Outcome]]) -> T:
        """Run the outcomes of a command's result ``(value, outcomes)``; the value."""
        value, outcomes = done
        self.run(outcomes)
        return value
