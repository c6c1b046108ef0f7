"""Connecting to Temporal with the engine's data converter."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.envconfig import ClientConfig
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from models.errors import TemporalUnreachable


async def connect(address: str | None = None, *, runtime: Runtime | None = None) -> Client:
    """Connect using Temporal's standard client config (profile file and TEMPORAL_* variables).

    Without any configuration this is the local dev server on localhost:7233, namespace default.
    A ``runtime`` (see ``metrics_runtime``) replaces the SDK's default one for this client and
    every worker built on it.
    """
    config = ClientConfig.load_client_connect_config()
    if address:
        config["target_host"] = address
    config.setdefault("target_host", "localhost:7233")
    try:
        return await Client.connect(
            **config, data_converter=pydantic_data_converter, runtime=runtime
        )
    except RuntimeError as err:  # what the SDK's core raises when the connection fails
        raise TemporalUnreachable(
            f"cannot reach Temporal at {config['target_host']}: {err}",
            address=config["target_host"],
        ) from err


def metrics_runtime(bind_address: str) -> Runtime:
    """A runtime serving the SDK's metrics (temporal_*) for Prometheus at
    ``http://<bind_address>/metrics``. Make one per process: the address stays bound."""
    try:
        return Runtime(
            telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=bind_address))
        )
    except ValueError as err:  # a taken port, a malformed address
        raise SystemExit(f"cannot serve metrics on {bind_address}: {err}") from err
