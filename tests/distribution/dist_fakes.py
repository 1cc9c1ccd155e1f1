"""Local stand-ins for the platforms' posting APIs, speaking their documented protocols (see
shared/platforms.md): Douyin open platform, Kuaishou open platform, TikTok Content Posting, YouTube
resumable upload, the OAuth refresh endpoints, and a webhook receiver. The real APIs cannot be
reached from tests; these keep the same paths, fields, error codes and upload rules.

Faults are queued per endpoint (`fail(name, status, body)`), and `hold(name, nth)` stalls one request
until released, so a test can kill a worker while that request is in flight.
"""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections import Counter, defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

QUANTUM = 256 * 1024


def multipart_files(body: bytes, content_type: str) -> dict[str, bytes]:
    """Field name -> content of a multipart/form-data body."""
    boundary = content_type.split("boundary=", 1)[1].encode()
    fields = {}
    for part in body.split(b"--" + boundary)[1:]:
        if part.startswith(b"--"):
            break
        head, _, content = part.partition(b"\r\n\r\n")
        name = head.split(b'name="', 1)[1].split(b'"', 1)[0].decode()
        fields[name] = content[:-2]  # the CRLF before the next boundary
    return fields


class FakePlatforms:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.access_tokens = {"tok-1"}
        self.refresh_tokens = {"ref-1": "tok-2"}  # refresh token -> the access token it yields
        self.calls: Counter[str] = Counter()
        self.faults: dict[str, deque] = defaultdict(deque)
        self.holds: dict[tuple[str, int], tuple[threading.Event, threading.Event]] = {}
        # Douyin
        self.uploads: dict[str, dict[int, str]] = {}  # upload_id -> part number -> sha256
        self.videos: dict[str, str] = {}  # video_id -> sha256 of the part digests (or of the file)
        self.items: dict[str, str] = {}  # item_id -> video_id
        self.item_texts: dict[str, str] = {}
        # Kuaishou
        self.ks_uploads: dict[str, dict[str, Any]] = {}
        self.photos: dict[str, str] = {}
        # TikTok
        self.publishes: dict[str, dict[str, Any]] = {}
        self.tiktok_polls_before_complete = 1
        # YouTube
        self.sessions: dict[str, dict[str, Any]] = {}
        self.yt_videos: dict[str, dict[str, Any]] = {}
        # Webhook
        self.hooks: list[tuple[dict[str, str], bytes]] = []
        self.server: ThreadingHTTPServer | None = None

    # -- test controls ---------------------------------------------------------------------
    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def fail(self, endpoint: str, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.faults[endpoint].append((status, data, headers or {}))

    def hold(self, endpoint: str, nth: int) -> tuple[threading.Event, threading.Event]:
        """(arrived, release): the nth call of `endpoint` waits for `release` before it is read."""
        events = (threading.Event(), threading.Event())
        self.holds[(endpoint, nth)] = events
        return events

    def start(self) -> FakePlatforms:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                fake.handle(self)

            def do_PUT(self) -> None:
                fake.handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        for _, release in self.holds.values():
            release.set()
        self.server.shutdown()
        self.server.server_close()

    # -- dispatch --------------------------------------------------------------------------
    def handle(self, request: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(request.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        endpoint = parts.path.rstrip("/").rsplit("/", 1)[-1]
        if parts.path.startswith("/tiktok-upload/"):
            endpoint = "tiktok_upload"
        if parts.path.startswith("/yt-session/"):
            endpoint = "youtube_upload"
        with self.lock:
            self.calls[endpoint] += 1
            nth = self.calls[endpoint]
            held = self.holds.get((endpoint, nth))
            fault = self.faults[endpoint].popleft() if self.faults[endpoint] else None
        if held:
            held[0].set()
            held[1].wait(30)
        try:
            body = request.rfile.read(int(request.headers.get("Content-Length") or 0))
        except OSError:
            return
        if fault:
            return self.reply(request, *fault)
        route = getattr(self, f"on_{endpoint}", None)
        if route is None:
            return self.reply(request, 404, b'{"error": "no such endpoint"}')
        status, answer, headers = route(request, query, body, parts.path)
        self.reply(request, status, answer if isinstance(answer, bytes) else json.dumps(answer).encode(), headers)

    @staticmethod
    def reply(request: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        try:
            request.send_response(status)
            for key, value in (headers or {}).items():
                request.send_header(key, value)
            request.send_header("Content-Length", str(len(body)))
            request.send_header("Content-Type", "application/json")
            request.end_headers()
            request.wfile.write(body)
        except OSError:
            pass

    # -- Douyin ------------------------------------------------------------------------------
    def _douyin_auth(self, request, query) -> tuple | None:
        if request.headers.get("access-token") not in self.access_tokens:
            return 200, {"data": {}, "extra": {"error_code": 28001008, "description": "access_token expired"}}, {}
        if not query.get("open_id"):
            return 200, {"data": {}, "extra": {"error_code": 28001007, "description": "open_id missing"}}, {}
        return None

    @staticmethod
    def _ok(data: dict) -> tuple:
        return 200, {"data": {**data, "error_code": 0, "description": ""}, "extra": {"error_code": 0}}, {}

    def on_upload_video(self, request, query, body, path):
        denied = self._douyin_auth(request, query)
        if denied:
            return denied
        content = multipart_files(body, request.headers["Content-Type"])["video"]
        video_id = "v-" + uuid.uuid4().hex[:12]
        self.videos[video_id] = hashlib.sha256(content).hexdigest()
        return self._ok({"video": {"video_id": video_id, "width": 720, "height": 1280}})

    def on_init_video_part_upload(self, request, query, body, path):
        denied = self._douyin_auth(request, query)
        if denied:
            return denied
        upload_id = "u-" + uuid.uuid4().hex[:12]
        self.uploads[upload_id] = {}
        return self._ok({"upload_id": upload_id})

    def on_upload_video_part(self, request, query, body, path):
        denied = self._douyin_auth(request, query)
        if denied:
            return denied
        if query.get("upload_id") not in self.uploads:
            return 200, {"data": {"error_code": 2100005, "description": "invalid upload_id"}}, {}
        content = multipart_files(body, request.headers["Content-Type"])["video"]
        number = int(query["part_number"])
        if number < 1:
            return 200, {"data": {"error_code": 2100005, "description": "part_number starts at 1"}}, {}
        self.uploads[query["upload_id"]][number] = hashlib.sha256(content).hexdigest()
        return self._ok({})

    def on_complete_video_part_upload(self, request, query, body, path):
        denied = self._douyin_auth(request, query)
        if denied:
            return denied
        parts = self.uploads.get(query.get("upload_id"), {})
        if not parts or sorted(parts) != list(range(1, len(parts) + 1)):
            return 200, {"data": {"error_code": 2100005, "description": f"parts missing: {sorted(parts)}"}}, {}
        video_id = "v-" + uuid.uuid4().hex[:12]
        self.videos[video_id] = hashlib.sha256("".join(parts[n] for n in sorted(parts)).encode()).hexdigest()
        return self._ok({"video": {"video_id": video_id}})

    def on_create_video(self, request, query, body, path):
        denied = self._douyin_auth(request, query)
        if denied:
            return denied
        record = json.loads(body)
        if record.get("video_id") not in self.videos:
            return 200, {"data": {"error_code": 2100005, "description": "video_id unknown"}}, {}
        if record["video_id"] in self.items.values():
            return 200, {"data": {"error_code": 2100005, "description": "video_id already used"}}, {}
        item_id = "@" + uuid.uuid4().hex[:16]
        self.items[item_id] = record["video_id"]
        self.item_texts[item_id] = record.get("text", "")
        return self._ok({"item_id": item_id})

    def on_video_data(self, request, query, body, path):
        denied = self._douyin_auth(request, query)
        if denied:
            return denied
        ids = json.loads(body)["item_ids"]
        rows = [
            {
                "item_id": i,
                "statistics": {
                    "play_count": 1000 + n,
                    "digg_count": 10 + n,
                    "comment_count": n,
                    "share_count": 2 * n,
                    "download_count": 0,
                    "forward_count": 0,
                },
            }
            for n, i in enumerate(ids)
            if i in self.items
        ]
        return self._ok({"list": rows})

    # -- OAuth refresh (Douyin's shape: the answer under "data") ------------------------------
    def on_refresh_token(self, request, query, body, path):
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        token = self.refresh_tokens.get(form.get("refresh_token", ""))
        if form.get("grant_type") != "refresh_token" or not form.get("client_key") or token is None:
            return 200, {"data": {"error_code": 10010, "description": "refresh_token expired"}}, {}
        self.access_tokens.add(token)
        return (
            200,
            {
                "data": {
                    "error_code": 0,
                    "access_token": token,
                    "expires_in": 1296000,
                    "refresh_token": form["refresh_token"],
                    "refresh_expires_in": 2592000,
                }
            },
            {},
        )

    # -- Kuaishou ------------------------------------------------------------------------------
    def _ks_auth(self, query) -> tuple | None:
        if query.get("access_token") not in self.access_tokens:
            return 200, {"result": 100200103, "error_msg": "access_token expired"}, {}
        if not query.get("app_id"):
            return 200, {"result": 100200100, "error_msg": "app_id missing"}, {}
        return None

    def on_start_upload(self, request, query, body, path):
        denied = self._ks_auth(query)
        if denied:
            return denied
        token = "ut-" + uuid.uuid4().hex[:12]
        self.ks_uploads[token] = {"fragments": {}, "whole": None, "complete": False}
        return 200, {"result": 1, "upload_token": token, "endpoint": f"127.0.0.1:{self.server.server_address[1]}"}, {}

    def on_upload(self, request, query, body, path):
        upload = self.ks_uploads.get(query.get("upload_token"))
        if upload is None:
            return 200, {"result": 100200100, "error_msg": "upload_token unknown"}, {}
        upload["whole"] = hashlib.sha256(body).hexdigest()
        upload["complete"] = True
        return 200, {"result": 1}, {}

    def on_fragment(self, request, query, body, path):
        upload = self.ks_uploads.get(query.get("upload_token"))
        if upload is None:
            return 200, {"result": 100200100, "error_msg": "upload_token unknown"}, {}
        if len(body) > 10 * 1024 * 1024:
            return 200, {"result": 100200100, "error_msg": "fragment over 10 MB"}, {}
        upload["fragments"][int(query["fragment_id"])] = hashlib.sha256(body).hexdigest()
        return 200, {"result": 1}, {}

    def on_complete(self, request, query, body, path):
        upload = self.ks_uploads.get(query.get("upload_token"))
        count = int(query.get("fragment_count", -1))
        if upload is None or sorted(upload["fragments"]) != list(range(count)):
            return 200, {"result": 100200100, "error_msg": "fragments missing"}, {}
        upload["complete"] = True
        return 200, {"result": 1}, {}

    def on_publish(self, request, query, body, path):
        denied = self._ks_auth(query)
        if denied:
            return denied
        upload = self.ks_uploads.get(query.get("upload_token"))
        if upload is None or not upload["complete"]:
            return 200, {"result": 100200100, "error_msg": "upload not complete"}, {}
        caption = multipart_files(body, request.headers["Content-Type"]).get("caption", b"").decode()
        photo_id = str(len(self.photos) + 5_000_000)
        self.photos[photo_id] = caption
        return 200, {"result": 1, "video_info": {"photo_id": photo_id, "caption": caption}}, {}

    # -- TikTok ----------------------------------------------------------------------------------
    def _tiktok_auth(self, request) -> tuple | None:
        if request.headers.get("Authorization", "").removeprefix("Bearer ") not in self.access_tokens:
            return 401, {"error": {"code": "access_token_invalid", "message": "expired", "log_id": "x"}}, {}
        return None

    def on_init(self, request, query, body, path):
        denied = self._tiktok_auth(request)
        if denied:
            return denied
        source = json.loads(body)["source_info"]
        size, chunk, count = source["video_size"], source["chunk_size"], source["total_chunk_count"]
        if size >= 5 * 2**20 and (chunk < 5 * 2**20 or size // chunk != count):
            return 400, {"error": {"code": "invalid_params", "message": "chunk plan"}}, {}
        publish_id = "v_pub_" + uuid.uuid4().hex[:10]
        self.publishes[publish_id] = {
            "size": size,
            "chunk": chunk,
            "count": count,
            "received": 0,
            "polls": 0,
            "status": "PROCESSING_UPLOAD",
        }
        return (
            200,
            {
                "data": {"publish_id": publish_id, "upload_url": f"{self.base}/tiktok-upload/{publish_id}"},
                "error": {"code": "ok", "message": "", "log_id": "x"},
            },
            {},
        )

    def on_tiktok_upload(self, request, query, body, path):
        publish = self.publishes.get(path.rsplit("/", 1)[-1])
        if publish is None:
            return 404, b"", {}
        span, total = request.headers["Content-Range"].removeprefix("bytes ").split("/")
        first, last = (int(x) for x in span.split("-"))
        if int(total) != publish["size"] or first != publish["received"] or last - first + 1 != len(body):
            return 400, {"error": {"code": "invalid_params", "message": "chunk out of order"}}, {}
        publish["received"] = last + 1
        if publish["received"] == publish["size"]:
            publish["status"] = "PROCESSING_DOWNLOAD"
            return 201, b"", {}
        return 206, b"", {}

    def on_fetch(self, request, query, body, path):
        denied = self._tiktok_auth(request)
        if denied:
            return denied
        publish = self.publishes.get(json.loads(body)["publish_id"])
        if publish is None:
            return 400, {"error": {"code": "invalid_params", "message": "publish_id"}}, {}
        data = {"status": publish["status"]}
        if publish["status"] == "PROCESSING_DOWNLOAD":
            publish["polls"] += 1
            if publish["polls"] > self.tiktok_polls_before_complete:
                publish["status"] = "PUBLISH_COMPLETE"
                publish["post_id"] = str(7_000_000_000 + len(self.publishes))
        if publish["status"] == "PUBLISH_COMPLETE":
            data = {"status": "PUBLISH_COMPLETE", "publicaly_available_post_id": [publish["post_id"]]}
        return 200, {"data": data, "error": {"code": "ok", "message": "", "log_id": "x"}}, {}

    # -- YouTube -----------------------------------------------------------------------------------
    def on_videos(self, request, query, body, path):
        if request.headers.get("Authorization", "").removeprefix("Bearer ") not in self.access_tokens:
            return 401, {"error": {"code": 401, "errors": [{"reason": "authError"}]}}, {}
        if query.get("uploadType") != "resumable":
            return 400, {"error": {"code": 400, "errors": [{"reason": "badRequest"}]}}, {}
        session_id = uuid.uuid4().hex[:12]
        self.sessions[session_id] = {
            "size": int(request.headers["X-Upload-Content-Length"]),
            "received": 0,
            "meta": json.loads(body),
            "video": None,
        }
        return 200, b"", {"Location": f"{self.base}/yt-session/{session_id}"}

    def on_youtube_upload(self, request, query, body, path):
        session = self.sessions.get(path.rsplit("/", 1)[-1])
        if session is None:
            return 404, b"", {}
        span, total = request.headers["Content-Range"].removeprefix("bytes ").split("/")
        if span != "*":
            first, last = (int(x) for x in span.split("-"))
            final = last + 1 == session["size"]
            if first != session["received"] or last - first + 1 != len(body) or (not final and len(body) % QUANTUM):
                return 400, {"error": {"code": 400, "errors": [{"reason": "badContent"}]}}, {}
            session["received"] = last + 1
        if session["received"] == session["size"]:
            if session["video"] is None:
                session["video"] = "yt" + uuid.uuid4().hex[:9]
                self.yt_videos[session["video"]] = session["meta"]
            return 200, {"kind": "youtube#video", "id": session["video"]}, {}
        headers = {"Range": f"bytes=0-{session['received'] - 1}"} if session["received"] else {}
        return 308, b"", headers

    # -- Webhook receiver --------------------------------------------------------------------------
    def on_hook(self, request, query, body, path):
        self.hooks.append(({k.lower(): v for k, v in request.headers.items()}, body))
        return 200, {"id": f"cms-{len(self.hooks)}"}, {}
