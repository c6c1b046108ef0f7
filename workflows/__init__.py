"""The Temporal workflows of the engine: the one list the worker (and the replayer) read."""

from workflows.establishment.workflow import NewServiceWorkflow

TASK_QUEUE = "osom"

WORKFLOWS: list[type] = [NewServiceWorkflow]

__all__ = ["TASK_QUEUE", "WORKFLOWS", "NewServiceWorkflow"]
