"""The only module that touches the dynamic API of ``transitions``.

The machine alone decides which triggers are legal from the current state; the case's state
object stays the one copy of the truth: the machine's model reads and writes the phase through
the two callables it is given.

The guards and requirements of a row are not given to ``transitions`` as ``conditions``: a
condition answers yes or no when the trigger fires, but a refusal must name every problem (the
typed error lists them), and update validators must run the same checks without firing
anything. So the engine checks a row's rules first (``workflows/_checks.py``), and fires the
trigger only once they pass.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from transitions import Machine

from workflows._definition import ProcessDefinition

C = TypeVar("C")


class _PhaseModel:
    """A ``transitions`` model whose ``state`` attribute lives in the case state."""

    def __init__(self, read: Callable[[], str], write: Callable[[str], None]) -> None:
        self._read = read
        self._write = write

    @property
    def state(self) -> str:
        return self._read()

    @state.setter
    def state(self, value: str) -> None:
        self._write(value)


class ProcessMachine:
    def __init__(
        self,
        definition: ProcessDefinition[C],
        read: Callable[[], str],
        write: Callable[[str], None],
    ) -> None:
        self._model = _PhaseModel(read, write)
        self._machine = Machine(
            model=self._model,
            states=[s.name for s in definition.states],
            transitions=[
                {"trigger": t.trigger, "source": list(t.source), "dest": t.dest}
                for t in definition.transitions
            ],
            initial=read(),
            auto_transitions=False,
            ignore_invalid_triggers=False,
        )

    @property
    def state(self) -> str:
        return self._model.state

    def legal_triggers(self) -> list[str]:
        triggers: list[str] = self._machine.get_triggers(self.state)
        return triggers

    def is_legal(self, trigger: str) -> bool:
        return trigger in self.legal_triggers()

    def fire(self, trigger: str) -> str:
        """Fire a trigger that was checked legal; return the new state."""
        if not self.is_legal(trigger):
            raise RuntimeError(f"{trigger} is not legal from {self.state}; check before firing")
        fired = getattr(self._model, trigger)()
        if not fired:
            raise RuntimeError(f"{trigger} did not fire from {self.state}")
        return self.state
