"""The reference workflow of DESIGN §7: three updates, each running one trivial activity.

Kept in its own module with no other imports, so the workflow sandbox can load it.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow


@activity.defn(name="bench_touch")
def touch(step: int) -> int:
    return step + 1


@workflow.defn(name="BenchBare")
class BareWorkflow:
    def __init__(self) -> None:
        self.steps = 0

    @workflow.run
    async def run(self) -> int:
        await workflow.wait_condition(lambda: self.steps >= 3)
        return self.steps

    @workflow.update(name="step")
    async def step(self) -> int:
        self.steps = await workflow.execute_activity(
            touch, self.steps, start_to_close_timeout=timedelta(seconds=10)
        )
        return self.steps
