"""HTTP API: rooms, clips, reviews, products, media files, the event stream, users and tokens; the operator web page.

Every route but the nginx on_publish callback and /metrics needs credentials (livecut/api_auth.py),
and a tenant sees only its own and its granted rooms. Every error is JSON {"detail": ...}.
"""

# No `from __future__ import annotations`: FastAPI reads the routes' Annotated dependencies from the
# functions' annotations, and those that name a local (auth) cannot be resolved from strings.
import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, FastAPI, Form, Header, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles

from livecut.api.auth import Authenticator, session_router
from livecut.api.errors import validation_error
from livecut.api.headers import SecurityHeaders
from livecut.api.limits import BodyLimit
from livecut.api.login_throttle import LoginLimits, LoginThrottle
from livecut.api.media import media_response
from livecut.api.routes.accounts import accounts_router
from livecut.api.routes.admin import admin_router
from livecut.api.routes.clips import clips_router
from livecut.api.routes.detail_pages import detail_pages_router
from livecut.api.routes.events import HEARTBEAT_S, events_router
from livecut.api.routes.posts import posts_router
from livecut.api.routes.products import BODY_LIMITS, find_product, products_router
from livecut.api.routes.rooms import rooms_router
from livecut.api.views import ApiContext, find_room
from livecut.auth import Principal
from livecut.bus import Bus
from livecut.config import load_config
from livecut.observability.metrics import render_latest
from livecut.reviews import ReviewLog
from livecut.runtime.catalog_tools import CatalogTools
from livecut.runtime.posting import DistributionSettings, distribution_settings
from livecut.store import MetadataStore
from stream.media_store import MediaStore
from stream.rtmp import PublishRefused

if TYPE_CHECKING:  # the API process must not load the ingest code (PyAV) just for a type
    from livecut.runtime.rooms import RoomManager

WEB_DIR = Path(__file__).resolve().parents[1] / "web"  # livecut/web
MAX_BODY_BYTES = 64 * 1024
DEFAULT_MAX_CLIP_S = 60.0
TAGS = [
    {"name": "session", "description": "Sign in to the web page (cookie); API clients send a bearer token."},
    {"name": "rooms", "description": "Live rooms of your tenant and rooms granted to it."},
    {"name": "clips", "description": "Clips: list, review, trim."},
    {"name": "events", "description": "Server-Sent Events of room and clip changes."},
    {"name": "products", "description": "Products: import, images, extraction, confirm steps, listings per platform."},
    {"name": "media", "description": "Clip videos, captions, thumbnails, room recordings, product images."},
    {"name": "admin", "description": "Users, API tokens, room grants and the audit log of your tenant."},
    {"name": "accounts", "description": "Platform accounts your tenant posts from; credentials are write-only."},
    {"name": "posts", "description": "Plans and posts of approved clips to your accounts."},
]


def create_app(
    store: MetadataStore,
    media: MediaStore,
    manager: "RoomManager | None",
    rtmp_base: str,
    reviews: ReviewLog | None = None,
    *,
    bus: Bus | None = None,
    max_clip_s: float = DEFAULT_MAX_CLIP_S,
    web_dir: Path | None = WEB_DIR,
    heartbeat_s: float = HEARTBEAT_S,
    catalog: CatalogTools | None = None,
    distribution: DistributionSettings | None = None,
    login_limits: LoginLimits | None = None,
    secure_cookies: bool = False,
    pull_allow: tuple[str, ...] = (),
) -> FastAPI:
    """`rtmp_base` is what publishers are told to push to, e.g. rtmp://127.0.0.1:1935/live.

    `bus` carries the render requests of trims and range clips; `web_dir`, if it exists, is
    served at / after every API route; `catalog` (default: from config.toml's defaults) serves
    the product routes. `distribution` is the [distribution] section (default: the shipped defaults).
    `login_limits` bound failed sign-ins; `secure_cookies` (behind TLS) marks the session cookie Secure
    and adds Strict-Transport-Security. `pull_allow` lists the private hosts and networks pull rooms
    may use (ingest.pull_allow).
    """
    app = FastAPI(
        title="livecut",
        description="Live-commerce clipping engine API.",
        openapi_tags=TAGS,
    )
    catalog = catalog or CatalogTools(load_config())
    ctx = ApiContext(store, media, manager, rtmp_base, reviews, bus, max_clip_s, tuple(pull_allow), catalog=catalog)
    ctx.distribution = distribution or distribution_settings(load_config())
    app.state.api = ctx
    auth = Authenticator(store)
    throttle = LoginThrottle(login_limits or LoginLimits())
    app.state.login_throttle = throttle
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES, routes=BODY_LIMITS)
    app.add_middleware(SecurityHeaders, https_only=secure_cookies)  # outermost: even a 413 gets the headers
    app.add_exception_handler(Exception, _internal_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    for router in (
        session_router(store, auth, throttle, secure_cookies),
        rooms_router(ctx, auth),
        clips_router(ctx, auth),
        events_router(ctx, auth, heartbeat_s=heartbeat_s),
        products_router(ctx, auth),
        detail_pages_router(ctx, auth),
        admin_router(store, auth),
        accounts_router(ctx, auth),
        posts_router(ctx, auth),
    ):
        app.include_router(router)
    _add_media_route(app, ctx, auth)
    _add_unauthenticated_routes(app, manager)

    @app.api_route("/api/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    async def unknown_api_route(path: str) -> None:
        """JSON 404 for any other /api path, whatever the web folder holds."""
        raise HTTPException(404, "Not Found")

    if web_dir is not None and web_dir.is_dir():
        app.mount("/", StaticFiles(directory=web_dir, html=True), name="web")
    return app


def close_event_streams(app: FastAPI) -> None:
    """End the app's open event streams (server shutdown): uvicorn waits for open responses."""
    app.state.api.closing = True


def _add_media_route(app: FastAPI, ctx: ApiContext, auth: Authenticator) -> None:
    @app.get("/media/{key:path}", tags=["media"], responses={206: {"description": "the requested bytes"}})
    async def media_file(
        key: str,
        principal: Annotated[Principal, Depends(auth.require("viewer"))],
        range: Annotated[str | None, Header()] = None,
    ) -> Response:
        """A media file (clip, captions, thumbnail, fragment, playlist) of a room you see, or an image or export
        of your tenant's product; `Range: bytes=` for seeking. The session cookie works, so a <video src> plays it."""
        parts = key.split("/")
        owners = {"rooms": find_room, "products": find_product}
        if len(parts) < 3 or parts[0] not in owners:
            raise HTTPException(404, "not found")
        try:
            owners[parts[0]](ctx, principal, parts[1])
        except HTTPException:
            raise HTTPException(404, "not found") from None
        return await media_response(ctx.media, key, range)


def _add_unauthenticated_routes(app: FastAPI, manager: "RoomManager | None") -> None:
    @app.get("/metrics", include_in_schema=False)
    async def metrics(accept: Annotated[str | None, Header()] = None) -> Response:
        """Prometheus metrics of this process (the rooms gauge reads the store, hence the thread)."""
        body, content_type = await asyncio.to_thread(render_latest, None, accept)
        return Response(body, media_type=content_type)

    @app.post(
        "/api/rtmp/on_publish",
        response_class=PlainTextResponse,
        tags=["rooms"],
        responses={
            403: {"description": "unknown or inactive stream key"},
            503: {"description": "this process cannot pull from the front (no ingest role, no front_pull_url)"},
        },
    )
    async def nginx_on_publish(
        app_name: Annotated[str, Form(alias="app", max_length=200)], name: Annotated[str, Form(max_length=200)]
    ) -> str:
        """nginx-rtmp's on_publish callback: 2xx lets the publisher in, 403 refuses it. No credentials:
        the stream key is the secret."""
        if manager is None:
            raise HTTPException(503, "no ingest role in this process: point on_publish at one that has it")
        if not manager.front_pull_url:
            raise HTTPException(
                503, "ingest.front_pull_url is not configured: livecut cannot pull the stream from the front"
            )
        try:
            room_id = await manager.authorize(app_name, name)
        except PublishRefused as exc:
            raise HTTPException(503, str(exc)) from None
        if room_id is None:
            raise HTTPException(403, "unknown or inactive stream key")
        manager.pull_from_front(room_id, name)
        return "ok"


async def _internal_error(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": "internal server error"}, status_code=500)
