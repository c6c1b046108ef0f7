"""What a workflow cannot do itself, done through the Temporal client: ask another case a
question, find cases through visibility, and send another case an update to get its answer."""

from __future__ import annotations

from temporalio import activity
from temporalio.client import Client, WorkflowQueryFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from activities.case_calls import execute_update
from models.coe import ServiceLookup, ServiceProfile
from models.coe_review import CaseMessage, MessageAnswer, PoolEntry, PoolQuery
from models.errors import NoAnswer, OsomError
from models.ids import lifecycle_workflow_id
from workflows._visibility import CASE_ID, PROCESS, SERVICE_ID, STATE
from workflows.activity_contracts import OtherCaseActivities
from workflows.correction_of_errors.definition import COE


class OtherCases(OtherCaseActivities):
    def __init__(self, client: Client) -> None:
        self.client = client

    @activity.defn
    async def service_profile(self, service_id: str) -> ServiceLookup:
        """The service's name and Service Manager from its lifecycle; no profile if the engine
        does not run one for it (the directory may still know the service)."""
        handle = self.client.get_workflow_handle(lifecycle_workflow_id(service_id))
        try:
            profile: ServiceProfile = await handle.query(
                "service_profile", result_type=ServiceProfile
            )
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return ServiceLookup()
            raise  # retried: say, the lifecycle is just continuing as new
        except WorkflowQueryFailedError as err:
            # The lifecycle exists but cannot say yet (it is still loading): ask again.
            raise ApplicationError(f"{service_id}'s lifecycle cannot answer yet: {err}") from err
        return ServiceLookup(profile=profile)

    @activity.defn
    async def review_pool(self, query: PoolQuery) -> list[PoolEntry]:
        """Published CoEs waiting for review (optionally of some services), by CoE id."""
        search = (
            f"{PROCESS.name} = '{COE.name}' AND {STATE.name} = 'PUBLISHED' "
            "AND ExecutionStatus = 'Running'"
        )
        if query.services:
            listed = ", ".join(f"'{s}'" for s in query.services)
            search += f" AND {SERVICE_ID.name} IN ({listed})"
        entries = []
        async for execution in self.client.list_workflows(search):
            attributes = execution.typed_search_attributes
            coe_id, service_id = attributes.get(CASE_ID), attributes.get(SERVICE_ID)
            if coe_id and service_id:
                entries.append(
                    PoolEntry(coe_id=coe_id, workflow_id=execution.id, service_id=service_id)
                )
        return sorted(entries, key=lambda e: e.coe_id)

    @activity.defn
    async def send_to_case(self, message: CaseMessage) -> MessageAnswer:
        """The case's answer to an update: accepted, or refused with the domain error. No
        answer at all is retried (the update carries a decision id, so it applies once)."""
        try:
            result = await execute_update(
                self.client, message.workflow_id, message.update, message.payload
            )
        except NoAnswer:
            raise
        except OsomError as err:
            return MessageAnswer(accepted=False, message=err.message, error_type=err.type)
        return MessageAnswer(accepted=True, message=result.message)
