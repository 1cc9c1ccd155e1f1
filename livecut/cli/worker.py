"""`livecut worker --role ROLE`: one role of a scale-out, on any machine that reaches the
same bus (Kafka), media store (S3) and metadata store (PostgreSQL) as the others."""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys

from livecut.runtime.roles import STAGE_ROLES

WORKER_ROLES = ("ingest", *STAGE_ROLES)


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser, epilog: str) -> None:
    worker = commands.add_parser(
        "worker",
        parents=[common],
        help="run one role (ingest, transcribe, render, publish) of a multi-machine setup",
        description='Run one pipeline role until SIGTERM or Ctrl-C. Needs [bus] kind = "kafka", and for '
        'more than one machine [media] kind = "s3" and a PostgreSQL [store] url. Start any number of each '
        "role: ingest workers share rooms through leases, the others share events through consumer groups. "
        "Prometheus metrics are served on metrics.host:metrics.port.",
        epilog=epilog,
    )
    worker.add_argument(
        "--role",
        required=True,
        choices=WORKER_ROLES,
        help="ingest: pull rooms and an RTMP endpoint; transcribe: VAD, Whisper, classifier, segment builder; "
        "render: cut clips from the fragments; publish: announce clips to the webhooks in [publish]",
    )
    worker.add_argument(
        "--id", dest="worker_id", help="this worker's name in logs and room leases (default: ROLE-HOST-PID)"
    )
    worker.set_defaults(handler=_run_worker)


def _run_worker(args: argparse.Namespace, config: dict) -> int:
    worker_id = args.worker_id or f"{args.role}-{socket.gethostname()}-{os.getpid()}"
    return asyncio.run(_work(config, args.role, worker_id))


async def _work(config: dict, role: str, worker_id: str) -> int:
    from livecut.runtime.server import LivecutServer, stop_requested

    server = LivecutServer(config, roles=(role,), worker_id=worker_id)
    endpoints = await server.start()
    print(f"livecut: worker {worker_id} ({role}) running; metrics {server.metrics_url}", flush=True)
    if endpoints.rtmp_base:
        print(f"livecut: RTMP     {endpoints.rtmp_base}/<stream_key>", flush=True)
    stop = stop_requested()
    await stop.wait()
    print(f"livecut: worker {worker_id} leaving", file=sys.stderr)
    await server.stop()
    return 0
