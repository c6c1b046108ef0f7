"""The campaign's ledger: what it sent, what came back and what it found, printed as a table;
whether any promise is broken decides the exit status."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Figures:
    cases: int = 0
    valid: int = 0
    invalid: int = 0
    refused_correctly: int = 0
    refused_wrongly: int = 0
    accepted_wrongly: int = 0
    valid_refused: int = 0
    resent: int = 0
    lost: int = 0
    duplicated: int = 0
    out_of_order: int = 0
    server_errors: int = 0
    unexpected_errors: int = 0
    unfinished: int = 0
    disruptions: int = 0
    survived: int = 0
    recovery_seconds: float = 0.0
    # Commands of a step still unanswered when the worker was killed during it.
    in_flight_at_kills: int = 0
    # Commands the front doors kept as signals because no worker ran.
    queued_while_down: int = 0
    replays: int = 0
    replays_ok: int = 0
    invalid_kinds: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def rows(self) -> list[tuple[str, str]]:
        return [
            ("cases", str(self.cases)),
            ("commands sent", str(self.valid + self.invalid)),
            ("  valid", str(self.valid)),
            ("  invalid", str(self.invalid)),
            ("refused correctly", str(self.refused_correctly)),
            ("refused wrongly", str(self.refused_wrongly)),
            ("accepted wrongly", str(self.accepted_wrongly)),
            ("valid refused", str(self.valid_refused)),
            ("resent (queued, no answer)", str(self.resent)),
            ("lost", str(self.lost)),
            ("duplicated", str(self.duplicated)),
            ("out of order", str(self.out_of_order)),
            ("5xx", str(self.server_errors)),
            ("unexpected errors", str(self.unexpected_errors)),
            ("unfinished cases", str(self.unfinished)),
            ("restarts survived", f"{self.survived}/{self.disruptions}"),
            ("  in flight at a kill", str(self.in_flight_at_kills)),
            ("  queued while down", str(self.queued_while_down)),
            ("  slowest recovery (s)", f"{self.recovery_seconds:.1f}"),
            ("replay checks", f"{self.replays_ok}/{self.replays}"),
        ]

    def table(self) -> str:
        width = max(len(label) for label, _ in self.rows()) + 2
        lines = [f"{'figure':<{width}}{'value':>8}"]
        lines += [f"{label:<{width}}{value:>8}" for label, value in self.rows()]
        return "\n".join(lines)

    def broken(self) -> bool:
        """Whether any promise is broken (the campaign's exit status)."""
        zeros = (
            self.lost,
            self.duplicated,
            self.out_of_order,
            self.accepted_wrongly,
            self.refused_wrongly,
            self.valid_refused,
            self.server_errors,
            self.unexpected_errors,
            self.unfinished,
        )
        return any(zeros) or self.survived != self.disruptions or self.replays_ok != self.replays
