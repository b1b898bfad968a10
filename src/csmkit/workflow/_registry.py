"""Several versions of several workflows, and migrations of tickets between versions."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

import attrs

from csmkit._pickling import reduce_by_init
from csmkit._time import require_aware
from csmkit.errors import NotFoundError, WorkflowError
from csmkit.timeline import Ticket, Timeline, WorkflowMigrated
from csmkit.workflow._model import Actor
from csmkit.workflow._workflow import Workflow

__all__ = ["Migration", "MigrationPlan", "PlannedMove", "WorkflowRegistry"]


class WorkflowRegistry:
    """The workflow definitions an application runs, several versions of each.

    Tickets stay on the version they were created with (``Ticket.workflow_version``);
    [`for_ticket()`][csmkit.workflow.WorkflowRegistry.for_ticket] finds it. Registering the same
    name and version twice is allowed only with an identical definition, so a published version can
    never change.

    Examples:
        >>> from csmkit.workflow import template
        >>> registry = WorkflowRegistry([template("repair")])
        >>> registry.latest("repair").version
        1
    """

    __slots__ = ("_by_key",)

    def __init__(self, workflows: Iterable[Workflow] = ()) -> None:
        self._by_key: dict[tuple[str, int], Workflow] = {}
        for workflow in workflows:
            self.register(workflow)

    def register(self, workflow: Workflow) -> Workflow:
        """Add ``workflow`` and return the registered definition (idempotent when identical).

        Raises:
            WorkflowError: not a Workflow, or another definition holds that name+version.
        """
        if not isinstance(workflow, Workflow):
            raise WorkflowError(f"expected a Workflow, got {type(workflow).__name__}")
        key = (workflow.name, workflow.version)
        existing = self._by_key.get(key)
        if existing is not None:
            if existing != workflow:
                raise WorkflowError(
                    f"workflow {workflow.name!r} v{workflow.version} is already registered "
                    "with a different definition; publish a new version instead"
                )
            return existing
        self._by_key[key] = workflow
        return workflow

    def get(self, name: str, version: int | None = None) -> Workflow:
        """Version ``version`` of ``name`` (the latest when ``None``).

        Raises:
            NotFoundError: unknown name or version.
        """
        if version is None:
            return self.latest(name)
        try:
            return self._by_key[(name, version)]
        except KeyError:
            have = self.versions(name)
            raise NotFoundError(
                f"workflow {name!r} v{version} is not registered"
                + (f" (versions: {list(have)})" if have else "")
            ) from None

    def latest(self, name: str) -> Workflow:
        """The highest version of ``name``.

        Raises:
            NotFoundError: no version of ``name``.
        """
        have = self.versions(name)
        if not have:
            raise NotFoundError(f"no workflow named {name!r} is registered")
        return self._by_key[(name, have[-1])]

    def versions(self, name: str) -> tuple[int, ...]:
        """The registered versions of ``name``, ascending."""
        return tuple(sorted(v for n, v in self._by_key if n == name))

    def names(self) -> tuple[str, ...]:
        """The registered workflow names, sorted."""
        return tuple(sorted({n for n, _ in self._by_key}))

    def for_ticket(self, ticket: Ticket | Timeline) -> Workflow:
        """The definition (name and version) a ticket follows.

        Raises:
            NotFoundError: the ticket names no workflow, or one not registered.
        """
        current = ticket.ticket if isinstance(ticket, Timeline) else ticket
        if current.workflow is None:
            raise NotFoundError(f"ticket {current.id!r} follows no workflow")
        return self.get(current.workflow, current.workflow_version)

    def migrate(
        self,
        migration: Migration,
        ticket: Ticket | Timeline,
        *,
        at: datetime,
        actor: Actor | str | None = None,
        reason: str | None = None,
    ) -> tuple[Ticket, tuple[WorkflowMigrated, ...]]:
        """``migration.apply(ticket, self, at=at, actor=actor, reason=reason)``."""
        return migration.apply(ticket, self, at=at, actor=actor, reason=reason)

    def __iter__(self) -> Iterator[Workflow]:
        return iter([self._by_key[k] for k in sorted(self._by_key)])

    def __len__(self) -> int:
        return len(self._by_key)

    def __contains__(self, key: object) -> bool:
        return key in self._by_key


@attrs.frozen(kw_only=True)
class PlannedMove:
    """What a migration would do to one ticket.

    Attributes:
        ticket_id: The ticket.
        from_status: Its state in the old version.
        to_status: Its state in the new version.
    """

    ticket_id: str
    from_status: str
    to_status: str

    @property
    def moves(self) -> bool:
        """Whether the state name changes."""
        return self.from_status != self.to_status


@attrs.frozen(kw_only=True)
class MigrationPlan:
    """The result of [`Migration.dry_run()`][csmkit.workflow.Migration.dry_run].

    Attributes:
        moves: One entry per ticket on the old version (status changed or not).
        skipped: ``(ticket_id, why)`` for tickets the migration does not concern.
    """

    moves: tuple[PlannedMove, ...]
    skipped: tuple[tuple[str, str], ...]

    @property
    def changed(self) -> tuple[PlannedMove, ...]:
        """The moves that change a ticket's state."""
        return tuple(m for m in self.moves if m.moves)

    def counts(self) -> dict[tuple[str, str], int]:
        """How many tickets go from each old state to each new one."""
        out: dict[tuple[str, str], int] = {}
        for move in self.moves:
            key = (move.from_status, move.to_status)
            out[key] = out.get(key, 0) + 1
        return out


def _status_map(value: Mapping[str, str]) -> Mapping[str, str]:
    if not isinstance(value, Mapping):
        raise WorkflowError(f"status_map must be a mapping, got {type(value).__name__}")
    for old, new in value.items():
        if not isinstance(old, str) or not isinstance(new, str) or not old or not new:
            raise WorkflowError(f"status_map: {old!r} -> {new!r} must map state names")
    return MappingProxyType(dict(value))


@attrs.frozen(kw_only=True)
class Migration:
    """Moving tickets from one version of a workflow to another.

    States of the old version not mapped keep their name in the new version (which
    must then define them). Validation collects every problem: removed states left
    unmapped, mapped states unknown in the old version, targets missing in the new one.

    Attributes:
        workflow: The workflow name.
        from_version: The old version.
        to_version: The new version.
        status_map: Old state name -> new state name.
    """

    workflow: str
    from_version: int
    to_version: int
    status_map: Mapping[str, str] = attrs.field(factory=dict, converter=_status_map)

    def __reduce__(self) -> tuple[Any, ...]:
        # A read-only mapping view cannot be pickled: go through the constructor.
        return reduce_by_init(self)

    def problems(self, registry: WorkflowRegistry) -> list[str]:
        """Every problem of this migration against ``registry`` (empty when valid)."""
        out: list[str] = []
        if self.from_version == self.to_version:
            out.append(f"from_version and to_version are both {self.from_version}")
        try:
            old = registry.get(self.workflow, self.from_version)
            new = registry.get(self.workflow, self.to_version)
        except NotFoundError as exc:
            return [*out, str(exc)]
        old_names = {s.name for s in old.states}
        new_names = {s.name for s in new.states}
        for source, target in self.status_map.items():
            if source not in old_names:
                out.append(f"status_map[{source!r}]: {source!r} is not a state of v{old.version}")
            if target not in new_names:
                out.append(
                    f"status_map[{source!r}]: target {target!r} is not a state of v{new.version}"
                )
        for state in old.states:
            if state.name not in self.status_map and state.name not in new_names:
                out.append(f"state {state.name!r} was removed in v{new.version} and is not mapped")
        return out

    def validate(self, registry: WorkflowRegistry) -> None:
        """Raise unless the migration is valid.

        Raises:
            WorkflowError: with every problem in ``problems``.
        """
        problems = self.problems(registry)
        if problems:
            raise WorkflowError(
                f"migration of {self.workflow!r} v{self.from_version} -> "
                f"v{self.to_version} is invalid",
                problems=problems,
            )

    def target_of(self, status: str) -> str:
        """The new state for a ticket in ``status``."""
        return self.status_map.get(status, status)

    def _obstacle(self, ticket: Ticket, old: Workflow) -> str | None:
        """Why this migration cannot move ``ticket`` (``None`` when it can)."""
        if ticket.workflow != self.workflow or ticket.workflow_version != self.from_version:
            return (
                f"on {ticket.workflow!r} v{ticket.workflow_version}, "
                f"not {self.workflow!r} v{self.from_version}"
            )
        if ticket.status not in old._state_index:
            return (
                f"in state {ticket.status!r}, which is not a state of {self.workflow!r} "
                f"v{self.from_version}; the migration does not map it"
            )
        return None

    def dry_run(
        self, tickets: Iterable[Ticket | Timeline], registry: WorkflowRegistry
    ) -> MigrationPlan:
        """Report what would happen to each ticket, changing nothing.

        Raises:
            WorkflowError: the migration is invalid.
        """
        self.validate(registry)
        old = registry.get(self.workflow, self.from_version)
        moves: list[PlannedMove] = []
        skipped: list[tuple[str, str]] = []
        for item in tickets:
            ticket = item.ticket if isinstance(item, Timeline) else item
            if not isinstance(ticket, Ticket):
                raise WorkflowError(f"expected tickets or timelines, got {type(item).__name__}")
            obstacle = self._obstacle(ticket, old)
            if obstacle is not None:
                skipped.append((ticket.id, obstacle))
                continue
            moves.append(
                PlannedMove(
                    ticket_id=ticket.id,
                    from_status=ticket.status,
                    to_status=self.target_of(ticket.status),
                )
            )
        return MigrationPlan(moves=tuple(moves), skipped=tuple(skipped))

    def apply(
        self,
        ticket: Ticket | Timeline,
        registry: WorkflowRegistry,
        *,
        at: datetime,
        actor: Actor | str | None = None,
        reason: str | None = None,
    ) -> tuple[Ticket, tuple[WorkflowMigrated, ...]]:
        """Move one ticket to the new version: the new ticket and the event to record.

        The ticket's workflow version, state and status category change together
        through one [`WorkflowMigrated`][csmkit.timeline.WorkflowMigrated] event (written even when
        the state name stays the same: the version changes). Nothing is stored and the
        ticket passed in is not modified; append the event to its timeline. It moves
        exactly as [`dry_run()`][csmkit.workflow.Migration.dry_run] reports; a ticket the dry run
        skips raises here.

        Args:
            ticket: The ticket, or its timeline.
            registry: Holds both versions.
            at: When (timezone-aware, not before the ticket's latest event).
            actor: Who migrates (an [`Actor`][csmkit.workflow.Actor] or an actor id), if recorded.
            reason: Free text stored on the event, e.g. the change request's name.

        Raises:
            WorkflowError: the migration is invalid, ``at`` is naive, or the ticket is not
                on the migration's source workflow and version, or in a state that
                version does not define.
            TimelineError: ``at`` is earlier than the ticket's latest event, or
                ``actor``/``reason`` are not valid event values.
        """
        self.validate(registry)
        require_aware(at, "at", WorkflowError)
        if isinstance(ticket, Timeline):
            current = ticket.ticket
        elif isinstance(ticket, Ticket):
            current = ticket
        else:
            raise WorkflowError(
                f"ticket must be a Ticket or a Timeline, got {type(ticket).__name__}"
            )
        old = registry.get(self.workflow, self.from_version)
        obstacle = self._obstacle(current, old)
        if obstacle is not None:
            raise WorkflowError(
                f"cannot migrate ticket {current.id!r} from {self.workflow!r} "
                f"v{self.from_version} to v{self.to_version}: it is {obstacle}"
            )
        target = registry.get(self.workflow, self.to_version).state(self.target_of(current.status))
        event = WorkflowMigrated(
            ticket_id=current.id,
            at=at,
            actor=actor.id if isinstance(actor, Actor) else actor,
            workflow=self.workflow,
            from_version=current.workflow_version,
            to_version=self.to_version,
            from_status=current.status,
            to_status=target.name,
            category=target.category,
            reason=reason,
        )
        return current.apply(event), (event,)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Migration:
        """Build from [`to_dict()`][csmkit.workflow.Migration.to_dict] output.

        Raises:
            WorkflowError: missing or unknown keys, wrong types.
        """
        if not isinstance(data, Mapping):
            raise WorkflowError(f"a migration must be a dict, got {type(data).__name__}")
        keys = {"workflow", "from_version", "to_version", "status_map"}
        problems = [f"unknown key {k!r}" for k in sorted(set(data) - keys)]
        problems += [f"missing key {k!r}" for k in sorted(keys - {"status_map"} - set(data))]
        for key in ("from_version", "to_version"):
            value = data.get(key)
            if key in data and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                problems.append(f"{key}: must be an integer >= 1, got {value!r}")
        if problems:
            raise WorkflowError("invalid migration", problems=problems)
        return cls(
            workflow=data["workflow"],
            from_version=data["from_version"],
            to_version=data["to_version"],
            status_map=data.get("status_map", {}),
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON-safe dict form."""
        return {
            "workflow": self.workflow,
            "from_version": self.from_version,
            "to_version": self.to_version,
            "status_map": dict(self.status_map),
        }
