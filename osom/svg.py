"""A process (or a live case) as an SVG picture, with no drawing tools to install.

States are laid out left to right by how many moves they are from the start; each move is an
arrow labelled with its id and trigger; moves that stay in a state are listed under it. For a
live case the current state is highlighted, and each way forward that is blocked says what it
still needs.
"""

from __future__ import annotations

from collections import deque
from html import escape
from typing import TypeVar

from workflows._definition import ProcessDefinition

BOX_W, BOX_H = 190, 46
COL_GAP, ROW_GAP = 190, 120
# Moves that stay in a state listed under it, at most.
LISTED_STAYS = 5
MARGIN = 40
CURRENT_FILL, FILL, FINAL_FILL = "#ffd54f", "#e3f2fd", "#eeeeee"

C = TypeVar("C")  # the case type of the process drawn: the picture does not depend on it


def process_svg(
    definition: ProcessDefinition[C],
    current: str | None = None,
    blocked: dict[str, list[str]] | None = None,
) -> str:
    """``blocked`` maps a trigger leaving ``current`` to what it still needs."""
    blocked = blocked or {}
    positions = _layout(definition)
    width = max(x for x, _ in positions.values()) + BOX_W + MARGIN + 260
    height = max(y for _, y in positions.values()) + BOX_H + MARGIN + 120
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
        f"<title>{escape(definition.title)} (definition v{definition.version})</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z"/>'
        "</marker></defs>",
        f'<text x="{MARGIN}" y="24" font-size="15" font-weight="bold">'
        f"{escape(definition.title)}</text>",
    ]
    parts += _edges(definition, positions, current, blocked)
    parts += _boxes(definition, positions, current)
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _layout(definition: ProcessDefinition[C]) -> dict[str, tuple[int, int]]:
    """Column = moves from the initial state (breadth first); row = order within the column."""
    depth = {definition.initial: 0}
    queue = deque([definition.initial])
    while queue:
        state = queue.popleft()
        for t in definition.leaving(state):
            target = t.target(state)
            if target not in depth:
                depth[target] = depth[state] + 1
                queue.append(target)
    for s in definition.states:
        depth.setdefault(s.name, max(depth.values()) + 1)
    rows: dict[int, int] = {}
    positions: dict[str, tuple[int, int]] = {}
    for s in definition.states:
        column = depth[s.name]
        row = rows.get(column, 0)
        rows[column] = row + 1
        positions[s.name] = (
            MARGIN + column * (BOX_W + COL_GAP),
            MARGIN + 20 + row * (BOX_H + ROW_GAP),
        )
    return positions


def _boxes(
    definition: ProcessDefinition[C], positions: dict[str, tuple[int, int]], current: str | None
) -> list[str]:
    parts = []
    for s in definition.states:
        x, y = positions[s.name]
        fill = CURRENT_FILL if s.name == current else FINAL_FILL if s.terminal else FILL
        css = ' class="current"' if s.name == current else ""
        stroke = 3 if s.name == current else 1
        parts.append(
            f'<g{css}><rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="8" '
            f'fill="{fill}" stroke="#37474f" stroke-width="{stroke}"/>'
            f'<text x="{x + BOX_W / 2}" y="{y + 27}" text-anchor="middle" font-weight="bold">'
            f"{escape(s.name)}</text></g>"
        )
        stays = [f"{t.id} {t.trigger}" for t in definition.leaving(s.name) if t.dest is None]
        if len(stays) > LISTED_STAYS:
            stays = [*stays[: LISTED_STAYS - 1], f"... {len(stays) - LISTED_STAYS + 1} more"]
        for i, label in enumerate(stays):
            parts.append(
                f'<text x="{x + 4}" y="{y + BOX_H + 12 + 11 * i}" fill="#546e7a">'
                f"&#8635; {escape(label)}</text>"
            )
    return parts


def _edges(
    definition: ProcessDefinition[C],
    positions: dict[str, tuple[int, int]],
    current: str | None,
    blocked: dict[str, list[str]],
) -> list[str]:
    parts = []
    seen: dict[tuple[str, str], int] = {}
    for t in definition.transitions:
        for source in t.source:
            target = t.target(source)
            if target == source:
                continue
            nth = seen.get((source, target), 0)
            seen[(source, target)] = nth + 1
            (x1, y1), (x2, y2) = _anchor(positions[source], positions[target])
            mid_x, mid_y, anchor = _label_at(x1, y1, x2, y2, nth)
            needs = blocked.get(t.trigger) if source == current else None
            colour = "#c62828" if needs else "#455a64"
            dash = ' stroke-dasharray="5 3"' if needs or t.automatic else ""
            label = f"{t.id} {t.trigger}" + (" (engine)" if t.automatic else "")
            parts.append(
                f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="{colour}"{dash} '
                'marker-end="url(#arrow)"/>'
                f'<text x="{mid_x}" y="{mid_y}" text-anchor="{anchor}" fill="{colour}">'
                f"{escape(label)}</text>"
            )
            if needs:
                parts.append(
                    f'<text class="blocked" x="{mid_x}" y="{mid_y + 12}" text-anchor="{anchor}" '
                    f'fill="#c62828">needs: {escape(needs[0][:70])}'
                    + (f" (+{len(needs) - 1} more)" if len(needs) > 1 else "")
                    + "</text>"
                )
    return parts


def _label_at(x1: float, y1: float, x2: float, y2: float, nth: int) -> tuple[float, float, str]:
    """Where an arrow's label goes: beside a vertical arrow, below one pointing back left (so
    it does not sit on the label of the arrow going right), above the others."""
    if x1 == x2:
        return x1 + 6, y1 + (y2 - y1) * 0.7 + 12 * nth, "start"
    below = 16 if x2 < x1 else -4
    return (x1 + x2) / 2, (y1 + y2) / 2 + below + 12 * nth, "middle"


def _anchor(
    source: tuple[int, int], target: tuple[int, int]
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Where an arrow leaves its source box and meets its target box (their facing sides)."""
    (sx, sy), (tx, ty) = source, target
    if tx > sx:
        return (sx + BOX_W, sy + BOX_H / 2), (tx, ty + BOX_H / 2)
    if tx < sx:
        return (sx, sy + BOX_H / 2 + 8), (tx + BOX_W, ty + BOX_H / 2 + 8)
    down = ty > sy
    return (sx + BOX_W / 2, sy + (BOX_H if down else 0)), (
        tx + BOX_W / 2,
        ty + (0 if down else BOX_H),
    )
