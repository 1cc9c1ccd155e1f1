"""The render stage: clip requests in; a rendered clip in the media store, its row in the metadata store, CLIPS out.

Clips are cut from the stored fragments, never from memory, so any machine can render
them and a clip can be rendered again later. A request whose clip is already rendered,
or was replaced by a replayed request, is skipped: requests are delivered at least once.
A store or file error is retried by the runner; a clip that cannot be cut (its media is
gone, ffmpeg refuses it) or that keeps failing becomes `failed` with the reason.
"""

from __future__ import annotations

import re
import tempfile
import time
from pathlib import Path

from catalog import product_of_span
from clipper.renderer import Renderer, RenderError
from livecut.contracts import ClipReady, ClipRequest, ClipStatus, topics
from livecut.observability.metrics import clip_made, observe_stage
from livecut.runtime.runner import Emit, ErrorPolicy
from livecut.runtime.services import LiveServices
from livecut.runtime.settings import render_settings
from stream.media_store import MediaStore
from stream.span import SpanUnavailableError, assemble_span

# An absolute path in an error message (ffmpeg's, the renderer's): the clip's reason keeps its file name.
_PATH = re.compile(r"(?<![\w./:])/(?:[^\s'\"/:]+/)+([^\s'\",:/]+)")


def without_paths(reason: str) -> str:
    """A failed clip's reason as tenants see it: no server paths (temp folders, the data folder)."""
    return _PATH.sub(r"\1", reason)


class RenderStage:
    name = "render"
    topic = topics.CLIP_REQUESTS
    policy = ErrorPolicy(attempts=3, backoff_s=0.5, permanent=(RenderError, SpanUnavailableError))

    def __init__(self, services: LiveServices, scratch_dir: Path | None = None) -> None:
        self.services = services
        self.settings = render_settings(services.config)
        self.scratch_dir = scratch_dir

    def handle(self, key: str, request: ClipRequest) -> list[Emit]:
        clip = self.render(request)
        return [(topics.CLIPS, key, clip)] if clip is not None else []

    def render(self, request: ClipRequest) -> ClipReady | None:
        """Render one request and store it; None when it needs no rendering."""
        if not self.services.store.needs_render(request.clip_id):
            return None
        with observe_stage("render"):
            clip = self._render(request)
        clip.product = request.product if request.product is not None else self._product_of(request)
        latency = time.time() - request.received_at if request.received_at else None
        self.services.store.save_clip(clip, latency)
        clip_made(request.label, ClipStatus.READY, latency)
        return clip

    def _product_of(self, request: ClipRequest) -> str | None:
        """A trim or an operator's range clip comes without a product: the one its utterances were about."""
        linked = self.services.store.linked_utterances(request.room, request.t0, request.t1)
        return product_of_span(request.t0, request.t1, linked)

    def give_up(self, key: str, request: ClipRequest, reason: str) -> None:
        """The clip fails with the reason, minus server paths (the dead letter keeps the whole one)."""
        reason = without_paths(reason)
        self.services.store.fail_clip(request.clip_id, request.room, request.t0, request.t1, request.label, reason)
        clip_made(request.label, ClipStatus.FAILED)

    def _render(self, request: ClipRequest) -> ClipReady:
        media = self.services.media
        fragments = self.services.store.span_fragments(request.room, request.t0, request.t1)
        scratch_dir = self.scratch_dir or self.services.scratch_dir
        with tempfile.TemporaryDirectory(prefix="livecut-render-", dir=scratch_dir) as scratch:
            # Matroska: ffmpeg seeks frame-exactly in it with -ss before -i; in MPEG-TS it does not.
            span = Path(scratch) / "span.mkv"
            offset = assemble_span(media, fragments, request.t0, request.t1, span)
            out_dir = Path(scratch) / "out"
            clip = Renderer(self.settings, out_dir).render(request, span, source_offset=offset)
            return stored(clip, out_dir, f"rooms/{request.room}", media)


def stored(clip: ClipReady, out_dir: Path, prefix: str, media: MediaStore) -> ClipReady:
    """Move the rendered files into the media store; the clip then names them by store key.

    The video goes last: a clip whose video exists is complete.
    """
    for name in ("thumbnail", "captions", "captions_vtt", "vertical", "video"):
        value = getattr(clip, name)
        if value:
            key = f"{prefix}/{value}"
            media.put_file(key, out_dir / value)
            setattr(clip, name, key)
    return clip
