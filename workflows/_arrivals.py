"""The order in which commands reached a case, so that each is judged after those before it.

Temporal hands a worker every update and signal that waited for it in one workflow task, and runs
an update's validator before the handlers of earlier commands have applied anything. Each handler
therefore takes a ticket in its first, synchronous step (tasks run in the order the server
delivered the commands), and applies only when every earlier ticket is done. While any command is
in line, update validators leave the checks to the handler, which makes them against the state
the previous command left.
"""

from __future__ import annotations


class Arrivals:
    """Tickets in arrival order; a ticket's turn comes when all earlier ones have left."""

    def __init__(self) -> None:
        self._issued = 0
        self._in_line: list[int] = []

    def arrive(self) -> int:
        ticket = self._issued
        self._issued += 1
        self._in_line.append(ticket)
        return ticket

    def is_turn_of(self, ticket: int) -> bool:
        return bool(self._in_line) and self._in_line[0] == ticket

    def leave(self, ticket: int) -> None:
        """Done, refused or cancelled: the next in line may go (a ticket leaves only once)."""
        if ticket in self._in_line:
            self._in_line.remove(ticket)

    @property
    def busy(self) -> bool:
        """Whether any command is in line or being applied."""
        return bool(self._in_line)
