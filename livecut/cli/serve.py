"""`livecut serve`: run the embedded default (API, RTMP, every stage) until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import urllib.request
from collections.abc import Callable

from livecut.config import ConfigError
from livecut.demo import DEMO_SAMPLE
from livecut.runtime.roles import ROLES


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser, epilog: str) -> None:
    serve = commands.add_parser(
        "serve",
        parents=[common],
        help="run the API, the RTMP endpoint and every pipeline stage in one process",
        description="Serve the HTTP API (server.host:port) and the RTMP endpoint (rtmp.host:port), and clip "
        "every live room as it broadcasts. Data goes to paths.data_dir. Ctrl-C finishes open clips and exits.",
        epilog=epilog,
    )
    serve.add_argument(
        "--demo",
        action="store_true",
        help="create a push room and publish the committed Mandarin sample into it at real-time speed",
    )
    serve.add_argument("--exit-after-demo", action="store_true", help="with --demo: stop once it is clipped")
    serve.add_argument(
        "--roles",
        default=",".join(ROLES),
        help='comma-separated roles to run here (default: all). Fewer needs [bus] kind = "kafka"; '
        "e.g. api,ingest on the front machine and `livecut worker --role ...` elsewhere",
    )
    serve.set_defaults(handler=_run_serve)


def _run_serve(args: argparse.Namespace, config: dict) -> int:
    roles = tuple(r.strip() for r in args.roles.split(",") if r.strip())
    return asyncio.run(_serve(config, roles, args.demo, args.exit_after_demo))


async def _serve(config: dict, roles: tuple[str, ...], demo: bool, exit_after_demo: bool) -> int:
    from livecut.runtime.server import LivecutServer, stop_requested

    print("livecut: loading models…", file=sys.stderr)
    server = LivecutServer(config, roles=roles)
    endpoints = await server.start()
    if endpoints.http_url:
        print(f"livecut: web page {endpoints.http_url}/  (the clip queue; sign in as admin)")
        print(f"livecut: API      {endpoints.http_url}  (docs: {endpoints.http_url}/docs)")
    if endpoints.rtmp_base:
        print(f"livecut: RTMP     {endpoints.rtmp_base}/<stream_key>  (create a room to get a key)")
    stop = stop_requested()
    waiters: list[asyncio.Task[bool | None]] = [asyncio.create_task(stop.wait())]
    revoke = None
    if demo:
        token, revoke = _demo_token(server)
        waiters.append(asyncio.create_task(_demo(endpoints, exit_after_demo, token)))
    await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    print("livecut: shutting down: finishing open clips…", file=sys.stderr)
    if revoke is not None:
        revoke()
    await server.stop()
    for waiter in waiters:
        waiter.cancel()
    return 0


def _demo_token(server) -> tuple[str, Callable[[], None]]:
    """An API token of an admin for the demo's own calls, made in-process and revoked at shutdown."""
    from livecut.auth import hash_secret, new_token

    store = server.services.store
    admin = next((u for u in store.users() if u["role"] == "admin"), None)
    if admin is None:
        raise ConfigError("--demo needs an admin user (the first start makes one)")
    token = new_token()
    made = store.create_token(admin["username"], "demo", hash_secret(token))
    return token, lambda: store.revoke_token(made["id"])


async def _demo(endpoints, exit_after: bool, token: str) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    room = await asyncio.to_thread(
        _post_json, f"{endpoints.http_url}/api/rooms", {"name": "demo", "source": {"type": "push"}}, auth
    )
    print(f"livecut: demo room {room['id']}: OBS server {endpoints.rtmp_base}  stream key {room['stream_key']}")
    print(f"livecut: clips appear at {endpoints.http_url}/api/clips?room={room['id']}")
    publisher = await asyncio.create_subprocess_exec(
        "ffmpeg", "-v", "error", "-re", "-i", str(DEMO_SAMPLE), "-c", "copy", "-f", "flv", room["rtmp_url"]
    )
    seen: set[str] = set()
    published = asyncio.create_task(publisher.wait())
    while not published.done():
        await asyncio.sleep(1.0)
        await _print_new_clips(endpoints.http_url, room["id"], seen, auth)
    deadline = time.time() + 600
    while time.time() < deadline:
        await asyncio.sleep(1.0)
        await _print_new_clips(endpoints.http_url, room["id"], seen, auth)
        state = await asyncio.to_thread(_get_json, f"{endpoints.http_url}/api/rooms/{room['id']}", auth)
        assert isinstance(state, dict)  # a room is a JSON object
        done = state["processed_to"] >= state["duration_s"] - 0.01 and not state["counters"]["rendering"]
        if state["status"] != "live" and done:
            break
    print(
        f"livecut: demo done: {len(seen)} clips. Ctrl-C to stop."
        if not exit_after
        else f"livecut: demo done: {len(seen)} clips."
    )
    if not exit_after:
        await asyncio.Event().wait()


async def _print_new_clips(http_url: str, room_id: str, seen: set[str], auth: dict[str, str]) -> None:
    clips = await asyncio.to_thread(_get_json, f"{http_url}/api/clips?room={room_id}", auth)
    for clip in reversed(clips):
        if clip["clip_id"] not in seen and clip["status"] == "ready":
            seen.add(clip["clip_id"])
            label = clip["label"] + (f"/{clip['sublabel']}" if clip["sublabel"] else "")
            print(
                f"clip {label:24} {clip['t0']:7.1f}-{clip['t1']:7.1f} s  latency {clip['latency_s']:.1f} s  "
                f"{http_url}{clip['video_url']}"
            )


def _get_json(url: str, auth: dict[str, str]) -> dict | list:
    with urllib.request.urlopen(urllib.request.Request(url, headers=auth), timeout=10) as response:
        return json.load(response)


def _post_json(url: str, body: dict, auth: dict[str, str]) -> dict:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json", **auth}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)
