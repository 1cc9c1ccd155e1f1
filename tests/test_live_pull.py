"""Pull rooms: livecut connects to a room's stream (HLS over HTTP, RTMP from a real nginx-rtmp front)."""

from __future__ import annotations

import functools
import http.server
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from support import listening, publish, settled, wait_for

NGINX_CONFIG = Path(__file__).resolve().parent.parent / "deploy" / "nginx-rtmp.conf"


@pytest.fixture
def hls_server(tmp_path, fixtures):
    """The English sample as an HLS playlist, served over HTTP on 127.0.0.1."""
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-i",
            str(fixtures / "en_live.mp4"),
            "-c",
            "copy",
            "-f",
            "hls",
            "-hls_time",
            "2",
            "-hls_playlist_type",
            "vod",
            str(tmp_path / "room.m3u8"),
        ],
        check=True,
    )
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/room.m3u8"
    httpd.shutdown()
    httpd.server_close()


def test_pull_from_an_hls_url(server, hls_server):
    api = server["api"]
    status, room = api.post("/api/rooms", {"name": "hls room", "source": {"type": "pull", "url": hls_server}})
    assert status == 201 and room["source"]["url"] == hls_server and "stream_key" not in room
    wait_for(lambda: api.room(room["id"])["publishes"] >= 1, timeout=30, what="the pull to connect")
    wait_for(lambda: api.room(room["id"])["duration_s"] > 40, timeout=120, what="the whole playlist")
    status, stopped = api.post(f"/api/rooms/{room['id']}/stop")
    assert status == 200 and stopped["status"] == "ended"
    wait_for(lambda: settled(api, room["id"]), timeout=300, what="the room to settle")
    clips = api.clips(room["id"])
    assert {"fabric", "fit"} <= {c["sublabel"] for c in clips}
    assert api.room(room["id"])["status"] == "ended"


@pytest.fixture
def nginx_front(tmp_path, server):
    if shutil.which("nginx") is None or not Path("/usr/lib/nginx/modules/ngx_rtmp_module.so").exists():
        pytest.fail("nginx with libnginx-mod-rtmp is required (scripts/install.sh installs it)")
    port = server["ports"]["front"]
    config = NGINX_CONFIG.read_text()
    config = config.replace("{{prefix}}", str(tmp_path)).replace("{{rtmp_listen}}", f"127.0.0.1:{port}")
    config = config.replace("{{livecut_api}}", server["api"].base)
    (tmp_path / "nginx.conf").write_text(config)
    proc = subprocess.Popen(
        ["nginx", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-g", "daemon off;"],
        stderr=subprocess.PIPE,
    )
    wait_for(lambda: listening(port), timeout=15, what="nginx to listen")
    yield f"rtmp://127.0.0.1:{port}/live"
    proc.terminate()
    proc.wait(timeout=15)


def test_nginx_front_checks_keys_with_livecut_and_livecut_pulls(server, nginx_front, fixtures):
    api = server["api"]
    room = api.create_push_room("behind nginx")
    refused = publish(fixtures / "en_live.mp4", f"{nginx_front}/wrong-key")
    assert refused.wait(timeout=30) != 0
    publisher = publish(
        fixtures / "en_live.mp4", f"{nginx_front}/{room['stream_key']}", realtime=True, extra=("-t", "24")
    )
    wait_for(lambda: api.room(room["id"])["status"] == "live", timeout=30, what="livecut to pull from nginx")
    assert publisher.wait(timeout=60) == 0
    wait_for(lambda: settled(api, room["id"]), timeout=180, what="the room to settle")
    after = api.room(room["id"])
    assert after["duration_s"] > 15
    assert "fabric" in {c["sublabel"] for c in api.clips(room["id"])}
