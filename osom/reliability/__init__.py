"""A reliability report: one bounded campaign against a private engine, and what it found.

    make reliability                       # 6 cases, 3 worker SIGKILLs, 1 dev-server restart
    make reliability RELIABILITY_ARGS="--cases 2 --worker-kills 1 --server-restarts 0"

It starts a Temporal dev server of its own (free loopback ports, its SQLite file in a temporary
folder) and `osom worker` as a subprocess, then takes N new-service proposals through the README
walkthrough, a step at a time, through both front doors: ``osom.cases`` and the HTTP API (served
in this process over httpx's ASGI transport). Before each valid command it sends an invalid one
(a person without the role, an unknown person, an illegal or unknown trigger, a reused decision id,
missing artefacts, an invalid artefact, an unknown case, and at the HTTP door a body that is not
JSON, too large, too deep, or names an actor). Between steps it SIGKILLs the worker (at a gate;
for two steps, whose commands are sent while none runs; or while a step's commands are in
flight) and SIGKILLs the dev server and starts it again on the same database. A command answered
``CommandQueued`` (202) or ``NoAnswer`` is sent again with its decision id, as the engine asks of
its senders.

Then it checks what the engine promises: every valid command applied exactly once and in the
order sent (the audit log), every invalid one refused with its typed error leaving the case as it
was (status, audit log and history length), no 5xx, every case finished, and every workflow's
history (finished or not) replaying on today's code (``temporalio.worker.Replayer``). It prints a
table and exits 1 if a promise is broken: any of lost, duplicated, out of order, accepted wrongly,
refused wrongly, valid refused, 5xx, unexpected errors (no answer after every resend, or an
error that is not a typed refusal) or unfinished cases not 0, a restart not survived, or a
replay that failed.

Like the benchmarks, this is a tool beside the engine: it replays in the worker's own sandbox
(``workflows.sandbox.workflow_runner``), so the replay runs the workflows exactly as the worker
does. The parts: ``processes`` (the dev server and worker it SIGKILLs), ``doors`` (the two front
doors), ``journeys`` and ``invalid`` (what it sends), ``campaign`` (the run and its disruptions),
``checks`` and ``figures`` (what it found), ``run`` (one campaign, start to end).
"""

from __future__ import annotations

import argparse
import asyncio

from osom.reliability.campaign import Campaign
from osom.reliability.figures import Figures
from osom.reliability.processes import EngineProcesses, connect_to, engine_env, free_port
from osom.reliability.run import campaign, schedule

__all__ = [
    "Campaign",
    "EngineProcesses",
    "Figures",
    "campaign",
    "connect_to",
    "engine_env",
    "free_port",
    "main",
    "schedule",
]

MAX_CASES = 50
MAX_WORKER_KILLS = 4
MAX_SERVER_RESTARTS = 4
MAX_DISRUPTIONS = 4  # two steps apart over the eight after the first


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m osom.reliability", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--cases", type=int, default=6, help=f"proposals (1-{MAX_CASES})")
    parser.add_argument(
        "--worker-kills", type=int, default=3, help=f"worker SIGKILLs (0-{MAX_WORKER_KILLS})"
    )
    parser.add_argument(
        "--server-restarts",
        type=int,
        default=1,
        help=f"dev-server SIGKILLs and restarts (0-{MAX_SERVER_RESTARTS})",
    )
    parser.add_argument("--seed", type=int, default=10, help="which invalid commands are sent")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    for name, value, most in (
        ("--cases", args.cases, MAX_CASES),
        ("--worker-kills", args.worker_kills, MAX_WORKER_KILLS),
        ("--server-restarts", args.server_restarts, MAX_SERVER_RESTARTS),
    ):
        if not (1 if name == "--cases" else 0) <= value <= most:
            parser.error(f"{name} must be between {1 if name == '--cases' else 0} and {most}")
    if args.worker_kills + args.server_restarts > MAX_DISRUPTIONS:
        parser.error(f"at most {MAX_DISRUPTIONS} disruptions in all (two steps apart)")
    figures = asyncio.run(
        campaign(args.cases, args.worker_kills, args.server_restarts, args.seed, args.keep)
    )
    print(figures.table())
    print("invalid commands sent:")
    for what, count in sorted(figures.invalid_kinds.items()):
        print(f"  {count:3} {what}")
    for problem in figures.problems:
        print(f"problem: {problem}")
    broken = figures.broken()
    print("promises broken" if broken else "every promise kept")
    return 1 if broken else 0
