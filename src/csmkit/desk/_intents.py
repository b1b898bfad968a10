"""The desk's intent runner: what a stored outcome asks for, beyond its events.

An automation [`Outcome`][csmkit.automation.Outcome] carries notifications to send and
tickets or problem records to open. The runner sends the notifications (a failed
delivery is recorded and retried, never raised: the outcome's events are already
stored) and **returns** the requests as follow-up commands; the desk runs them in its
own loop, one command at a time, instead of the runner calling back into the desk.
"""

from __future__ import annotations

from collections.abc import Callable

from csmkit.automation import Notification, Outcome, ProblemRequest, TicketRequest

__all__ = ["FollowUp", "IntentRunner"]

FollowUp = TicketRequest | ProblemRequest


class IntentRunner:
    """Runs an outcome's intents.

    Args:
        deliver: Sends one notification; ``False`` when it failed (and was recorded).
    """

    def __init__(self, deliver: Callable[[Notification], bool]) -> None:
        self._deliver = deliver

    def run(self, outcome: Outcome) -> tuple[list[Notification], list[FollowUp]]:
        """Deliver ``outcome``'s notifications; the delivered ones, and the follow-up
        commands (ticket and problem requests, in that order)."""
        delivered = [n for n in outcome.notifications if self._deliver(n)]
        return delivered, [*outcome.tickets, *outcome.problems]
