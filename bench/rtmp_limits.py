"""What the RTMP memory attack of issue 11 (finding 4) costs the server now, and a sign-in's latency.

N peers each complete the RTMP handshake, never publish, and start the largest message a chunk
header can announce (16 MiB - 1), sending its first --send-kib KiB. Before the limits, ten such peers
added about 345 MB to the server's RSS and the memory stayed after they left. The report gives
the process RSS before, while the peers are connected, and after they are gone, the server's
budget in use, and how many peers were refused from their header.

    .venv/bin/python bench/rtmp_limits.py [--peers 30] [--send-kib 4096]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import time

from stream.rtmp import RtmpServer

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE / 1e6


async def never(app: str, key: str) -> str | None:
    return None


async def nothing(room: str, stream) -> None:  # noqa: ANN001
    return None


async def attacker(port: int, send_kib: int, sent: asyncio.Queue, release: asyncio.Event) -> None:
    """Sends its part of the oversized message (until the server closes on it), then holds on."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"\x03" + bytes(1536))
    await reader.readexactly(1 + 2 * 1536)
    writer.write(bytes(1536))
    header = bytes([4]) + bytes(3) + (0xFFFFFF).to_bytes(3, "big") + bytes([9]) + (1).to_bytes(4, "little")
    body = bytes(128)
    try:
        writer.write(header + body)
        for _ in range(send_kib * 8 - 1):  # the rest as type-3 continuation chunks of 128 bytes
            writer.write(bytes([0xC4]) + body)
            await writer.drain()
    except ConnectionError:
        pass
    await sent.put(None)
    await release.wait()
    writer.close()


async def main(peers: int, send_kib: int) -> None:
    server = RtmpServer("127.0.0.1", 0, never, nothing)
    await server.start()
    before = rss_mb()
    sent, release = asyncio.Queue(), asyncio.Event()
    started = time.perf_counter()
    tasks = [asyncio.create_task(attacker(server.port, send_kib, sent, release)) for _ in range(peers)]
    for _ in range(peers):
        await sent.get()
    await asyncio.sleep(1.0)  # the server reads what is in flight
    took = time.perf_counter() - started
    during, held = rss_mb(), len(server._connections)
    budget = server.budget.used
    release.set()
    await asyncio.gather(*tasks)
    await asyncio.sleep(1.0)
    after = rss_mb()
    await server.stop()
    print(f"peers: {peers} sending {send_kib} KiB each; connections still open: {held} ({took:.2f} s)")
    print(f"RSS before {before:.1f} MB, with the peers {during:.1f} MB, after they left {after:.1f} MB")
    print(f"server budget in use with the peers: {budget} bytes (limit {server.limits.total_bytes})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peers", type=int, default=30)
    parser.add_argument("--send-kib", type=int, default=4096)
    logging.basicConfig(level=logging.ERROR)
    args = parser.parse_args()
    asyncio.run(main(args.peers, args.send_kib))
