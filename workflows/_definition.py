"""A process as data: states, transitions, who may fire them, what each needs.

Everything else a process shows (the ``transitions`` machine, the Mermaid diagram, the answer to
"what is blocking this case?", who the case waits for) is derived from one ``ProcessDefinition``.
Nothing else lists states or triggers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from models.case_state import Context
from models.people import Permit
from models.policy import ClockPolicy, Policy

C = TypeVar("C")
# The data a command carries (a pydantic model, or None for a trigger that takes none).
D = TypeVar("D")
# A guard reads the data, so one written for a base model or protocol fits every row whose
# data satisfies it.
D_in = TypeVar("D_in", contravariant=True)
# An artefact's model.
A = TypeVar("A", bound=BaseModel)


@dataclass(frozen=True)
class Requirement(Generic[C]):
    """Something a move needs the case to hold (usually an artefact), checked over state alone.

    ``supplied_by`` names the trigger or artefact kind that provides it, so a blocked case can say
    who it waits for.
    """

    name: str
    label: str
    check: Callable[[C, Context], list[str]]
    supplied_by: str
    # A condition of the case rather than something supplied (the assessment date has come):
    # shown among the blockers, refused as a failed rule, not as a missing artefact.
    condition: bool = False


@dataclass(frozen=True)
class Guard(Generic[C, D_in]):
    """A rule over the case and the command's data (for example: the target service is live)."""

    name: str
    label: str
    check: Callable[[C, D_in, Context], list[str]]


@dataclass(frozen=True)
class StateSpec:
    name: str
    description: str
    terminal: bool = False
    clocks: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClockSpec(Generic[C]):
    """A deadline running while the case is in a state naming it (and ``active`` holds):
    reminders, then at the due date an escalation, or, with ``on_due``, a step the workflow
    performs (say, request the periodic assessment) before the clock starts over.

    ``due`` computes the due date from the case and the start time when the policy's working
    days are not the whole story (an agreed target date, months between assessments). A clock
    starts over when its ``epoch`` changes (a new discovery round gets a new target date).
    """

    name: str
    label: str
    remind: tuple[Permit, ...]
    escalate_to: tuple[Permit, ...]
    # The pinned policy's working days for this clock; None when ``due`` times it alone.
    policy: Callable[[Policy], ClockPolicy] | None = None
    active: Callable[[C], bool] | None = None
    due: Callable[[C, datetime], datetime] | None = None
    on_due: str | None = None
    epoch: Callable[[C], str] | None = None


@dataclass(frozen=True)
class TransitionSpec(Generic[C, D]):
    """One row of a process table: a move, who may make it, what it needs, what it sets off.

    Build rows with ``transition(...)`` so that mypy checks the guards, ``record`` and ``defer``
    against the row's data model (a table typed ``TransitionSpec[C, Any]`` would not).
    """

    id: str
    trigger: str
    source: tuple[str, ...]
    dest: str | None
    who: tuple[Permit, ...]
    description: str
    needs: tuple[Requirement[C], ...] = ()
    guards: tuple[Guard[C, D], ...] = ()
    data: type[D] | None = None
    record: Callable[[C, D, Context], None] | None = None
    reason_required: bool = False
    effects: tuple[str, ...] = ()
    progress: bool = True
    # Accepted but held (say, until the next phase's budget exists): what it still waits for.
    defer: Callable[[C, D], str | None] | None = None
    # Fired by the engine itself when the case says so (no person sends it).
    automatic: bool = False

    def target(self, source: str) -> str:
        return self.dest or source


def transition(
    *,
    id: str,
    trigger: str,
    source: str | tuple[str, ...],
    dest: str | None,
    who: tuple[Permit, ...],
    description: str,
    needs: tuple[Requirement[C], ...] = (),
    guards: tuple[Guard[C, D], ...] = (),
    data: type[D] | None = None,
    record: Callable[[C, D, Context], None] | None = None,
    reason_required: bool = False,
    effects: tuple[str, ...] = (),
    progress: bool = True,
    defer: Callable[[C, D], str | None] | None = None,
    automatic: bool = False,
) -> TransitionSpec[C, Any]:
    """A row of a process table; ``source`` is one state or several."""
    return TransitionSpec(
        id=id,
        trigger=trigger,
        source=(source,) if isinstance(source, str) else source,
        dest=dest,
        who=who,
        description=description,
        needs=needs,
        guards=guards,
        data=data,
        record=record,
        reason_required=reason_required,
        effects=effects,
        progress=progress,
        defer=defer,
        automatic=automatic,
    )


@dataclass(frozen=True)
class ArtefactSpec(Generic[C, A]):
    """An artefact people submit to a case, in which states, and who may submit it.

    ``record(case, artefact, context)`` puts an accepted version where the guards read it.
    """

    kind: str
    label: str
    model: type[A]
    states: tuple[str, ...]
    who: tuple[Permit, ...]
    record: Callable[[C, A, Context], None]
    guards: tuple[Guard[C, A], ...] = ()


def artefact(
    *,
    kind: str,
    label: str,
    model: type[A],
    states: tuple[str, ...],
    who: tuple[Permit, ...],
    record: Callable[[C, A, Context], None],
    guards: tuple[Guard[C, A], ...] = (),
) -> ArtefactSpec[C, Any]:
    """An artefact row; mypy checks ``record`` and the guards against ``model``."""
    return ArtefactSpec(kind, label, model, states, who, record, guards)


@dataclass(frozen=True)
class Effect(Generic[C]):
    """What a transition sets off: a notification to ``recipients``, or (without recipients)
    a step the workflow itself performs, such as publishing a contract."""

    description: str
    recipients: Callable[[C], list[str]] | None = None
    # A workflow step runs before the move (it must succeed for the move to happen), or with
    # ``after_move`` once the case is in its new state (say, request that phase's assessment).
    after_move: bool = False


@dataclass(frozen=True)
class Blocker:
    """One way forward from the current state and what stands in its way."""

    id: str
    trigger: str
    description: str
    permits: tuple[Permit, ...]
    missing: list[str]

    @property
    def who(self) -> list[str]:
        return list(dict.fromkeys(p.describe() for p in self.permits))


@dataclass(frozen=True)
class ProcessDefinition(Generic[C]):
    name: str
    title: str
    version: int
    initial: str
    start: tuple[str, str]
    states: tuple[StateSpec, ...]
    transitions: tuple[TransitionSpec[C, Any], ...]
    artefacts: tuple[ArtefactSpec[C, Any], ...] = ()
    clocks: tuple[ClockSpec[C], ...] = ()
    effects: dict[str, Effect[C]] = field(default_factory=dict)
    start_effects: tuple[str, ...] = ()

    def state(self, name: str) -> StateSpec:
        return next(s for s in self.states if s.name == name)

    def transition(self, trigger: str) -> TransitionSpec[C, Any] | None:
        return next((t for t in self.transitions if t.trigger == trigger), None)

    def artefact(self, kind: str) -> ArtefactSpec[C, Any] | None:
        return next((a for a in self.artefacts if a.kind == kind), None)

    def clock(self, name: str) -> ClockSpec[C]:
        return next(c for c in self.clocks if c.name == name)

    def leaving(self, state: str) -> list[TransitionSpec[C, Any]]:
        """The rows that leave ``state``, read from the table (for diagrams and checks of the
        table itself; at run time the machine says what is legal)."""
        return [t for t in self.transitions if state in t.source]

    def permits_for(self, supplier: str) -> tuple[Permit, ...]:
        """Who can supply a requirement: the permits of the trigger or artefact named."""
        transition = self.transition(supplier)
        if transition:
            return transition.who
        artefact = self.artefact(supplier)
        return artefact.who if artefact else ()

    def blockers(self, case: C, legal: Sequence[str], at: Context) -> list[Blocker]:
        """For each forward move among the ``legal`` triggers (the machine says which): who
        fires it and what is still missing."""
        result = []
        for t in self.transitions:
            if t.trigger not in legal:
                continue
            if not t.progress or t.automatic:
                continue
            missing: list[str] = []
            who: list[Permit] = []
            for requirement in t.needs:
                problems = requirement.check(case, at)
                if problems:
                    missing.extend(f"{requirement.label}: {p}" for p in problems)
                    who.extend(self.permits_for(requirement.supplied_by))
            if not missing:
                who = list(t.who)
            result.append(Blocker(t.id, t.trigger, t.description, tuple(who), missing))
        return result

    def mermaid(self, current: str | None = None) -> str:
        """The process as a Mermaid state diagram, with the current state highlighted."""
        lines = ["stateDiagram-v2", f"  %% {self.title} (definition v{self.version})"]
        for s in self.states:
            lines.append(f'  state "{s.name}" as {s.name}')
        start_id, start_trigger = self.start
        lines.append(f"  [*] --> {self.initial}: {start_id} {start_trigger}")
        for t in self.transitions:
            who = "the engine" if t.automatic else ", ".join(p.describe() for p in t.who)
            for source in t.source:
                lines.append(f"  {source} --> {t.target(source)}: {t.id} {t.trigger} by {who}")
        for s in self.states:
            if s.terminal:
                lines.append(f"  {s.name} --> [*]")
        if current:
            lines.append("  classDef current fill:#ffd54f,stroke:#e65100,stroke-width:3px")
            lines.append(f"  class {current} current")
        return "\n".join(lines) + "\n"
