"""How our workflows run: the sandbox every worker and every replayer uses.

Not imported by the workflows themselves (they run inside it); the worker, the replay tests, the
benchmarks and the reliability campaign build their runner here, so a replay runs the workflows
exactly as the worker does.
"""

from __future__ import annotations

from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

# Pure modules the workflows import: loaded once outside the sandbox instead of per workflow run.
PASSTHROUGH = ("transitions", "models", "pydantic", "pydantic_core", "annotated_types")


def workflow_runner() -> SandboxedWorkflowRunner:
    """The sandbox every worker and the replayer use."""
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH)
    )
