"""The inbox and the service network over cases in different states, found through visibility."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from osom import views
from tests.workflows.coes import Coe
from tests.workflows.conftest import Engine
from tests.workflows.driver import Case
from tests.workflows.services import onboarded_service

T = TypeVar("T")


async def eventually(read: Callable[[], Awaitable[T]], holds: Callable[[T], bool]) -> T:
    """Visibility follows the cases a moment behind: read again until it has caught up."""
    value = await read()
    for _ in range(100):
        if holds(value):
            return value
        await asyncio.sleep(0.1)
        value = await read()
    raise AssertionError(f"never held: {value}")


async def test_an_inbox_lists_what_waits_for_the_person_with_the_command(
    engine: Engine, unique: str
) -> None:
    await Case.start(engine, unique)
    service = await onboarded_service(engine, f"SVC-{unique}", "LIVE")
    coe = await Coe.open(engine, f"COE-I{unique}", service.service_id, manager="P-013")

    def ids(items: list[views.InboxItem]) -> set[str]:
        return {i.case_id for i in items}

    finance = await eventually(
        lambda: views.inbox(engine.client, "P-002"), lambda items: f"PRO-{unique}" in ids(items)
    )
    item = next(i for i in finance if i.case_id == f"PRO-{unique}")
    assert item.state == "PROPOSED"
    assert f"osom decide PRO-{unique} triage_started --as P-002" in item.commands
    assert item.deadline is not None
    assert coe.coe_id not in ids(finance)

    manager = await eventually(
        lambda: views.inbox(engine.client, "P-013"), lambda items: coe.coe_id in ids(items)
    )
    draft = next(i for i in manager if i.case_id == coe.coe_id)
    assert draft.needs == [
        "C2 coe_published: the nine OSOM fields: no draft submitted yet (coe_document)"
    ]
    assert f"PRO-{unique}" not in ids(manager)
    assert f"PRO-{unique}" not in ids(await views.inbox(engine.client, "P-010"))


async def test_the_service_network_shows_phase_manager_and_corrective_actions(
    engine: Engine, unique: str
) -> None:
    service = await onboarded_service(engine, f"SVC-{unique}", "LIVE")
    coe = await Coe.open(engine, f"COE-W{unique}", service.service_id, manager="P-013")
    await coe.write(await coe.document(due_in_days=(60, 1)))
    await coe.skip(timedelta(days=4))
    await coe.until(lambda s: s.overdue_actions == 1, "A-2 overdue")

    def row_of(rows: list[views.ServiceRow]) -> views.ServiceRow | None:
        return next((r for r in rows if r.service_id == service.service_id), None)

    rows = await eventually(
        lambda: views.services(engine.client),
        lambda rows: (row := row_of(rows)) is not None and row.overdue_corrective_actions == 1,
    )
    row = row_of(rows)
    assert row is not None
    assert (row.phase, row.service_manager, row.name) == (
        "LIVE",
        "P-013",
        "Resident Identity Check",
    )
    assert row.next_assessment_due is not None
    assert row.open_corrective_actions == 2

    owner = await eventually(
        lambda: views.inbox(engine.client, "P-020"),
        lambda items: coe.coe_id in {i.case_id for i in items},
    )
    item = next(i for i in owner if i.case_id == coe.coe_id)
    assert any(n.startswith("corrective action A-2 ") and "OVERDUE" in n for n in item.needs)
    assert f"osom decide {coe.coe_id} action_completed --as P-020 --data FILE" in item.commands
