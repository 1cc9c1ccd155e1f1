"""`livecut clip`: recorded files through the same stages as a live room, on the memory bus.

Each file is ingested as a room (stream copy into fragments, in a work folder under the
output folder), then the transcribe and render stages handle it exactly as they handle a
broadcast. What they make streams to `utterances.jsonl` and `clips.jsonl` as it is made,
so a long file shows its first clips early and an interrupted run keeps what it finished.
The models load once per job and serve every input.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

import av

from livecut.bus import MemoryBus
from livecut.contracts import ClipReady, EndOfStream, Fragment, RoomStatus, Utterance, topics
from livecut.runtime.runner import Emit, ErrorPolicy, StageRunner
from livecut.runtime.services import LiveServices, load_speech_models
from livecut.runtime.stages.render import RenderStage
from livecut.runtime.stages.transcribe import TranscribeStage
from livecut.store import MetadataStore
from stream.file_source import probe
from stream.ingest import IngestSession
from stream.media_store import LocalMediaStore

Progress = Callable[[float], None]
MEDIA_FIELDS = ("video", "captions", "captions_vtt", "thumbnail", "vertical")


@dataclass
class FileResult:
    source: Path
    utterances: list[Utterance] = field(default_factory=list)
    clips: list[ClipReady] = field(default_factory=list)


class ClipJob:
    """Clips recorded files into `out_dir`; `run` takes one input at a time."""

    def __init__(self, config: dict[str, Any], out_dir: Path, render: bool = True) -> None:
        """`render=False` stops after the transcript (labeled utterances), as `livecut remix` needs."""
        self.render = render
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.work = tempfile.TemporaryDirectory(prefix=".livecut-work-", dir=self.out_dir)
        work = Path(self.work.name)
        # A file's words must not depend on which of its windows happened to be decoded together
        # (a batched GEMM rounds differently): one window per encoder and decoder call.
        config = {**config, "asr": {**config["asr"], "batch_windows": 1}}
        self.services = LiveServices(
            config, MetadataStore(work / "clip.db"), LocalMediaStore(work / "media"), MemoryBus()
        )
        load_speech_models(self.services)
        self.utterance_log = (self.out_dir / "utterances.jsonl").open("w", encoding="utf-8")
        self.clip_log = (self.out_dir / "clips.jsonl").open("w", encoding="utf-8")

    def close(self) -> None:
        self.utterance_log.close()
        self.clip_log.close()
        self.services.store.close()
        self.work.cleanup()

    def __enter__(self) -> ClipJob:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def run(self, source: Path, progress: Progress | None = None) -> FileResult:
        """Clip one file; raises stream.SourceError or IngestError (one-line reason) if it cannot be used."""
        probe(source)
        result = FileResult(source=source)
        room = self.services.store.create_room(source.stem, "file", url=str(source), room_id=source.stem)
        try:
            asyncio.run(self._run(source, room.id, result, progress))
        finally:
            self.services.store.set_room_status(room.id, RoomStatus.ENDED)
        return result

    async def _run(self, source: Path, room: str, result: FileResult, progress: Progress | None) -> None:
        services = self.services
        services.bus = bus = MemoryBus()
        writer = _OutputWriter(result, self.utterance_log, self.clip_log, self.out_dir, services, progress)
        # A file's words must not depend on how fast its fragments came: its speech fills whole windows.
        stages: list[Any] = [TranscribeStage(services, full_windows=True), *writer.stages()]
        if self.render:
            stages.append(RenderStage(services, scratch_dir=Path(self.work.name)))
        runners = [StageRunner(stage, bus, services.store) for stage in stages]
        tasks = [asyncio.create_task(runner.run()) for runner in runners]
        try:
            sink = _FileRecording(services, room, asyncio.get_running_loop())
            session = IngestSession(room, services.media, sink, services.config["ingest"]["fragment_s"])
            await asyncio.to_thread(_ingest, session, source)
            await bus.drain()
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await bus.close()


def _ingest(session: IngestSession, source: Path) -> None:
    with av.open(str(source)) as container:
        session.run(container)


class _FileRecording:
    """The ingest sink of a file: fragments to the job's store and onto its bus."""

    def __init__(self, services: LiveServices, room: str, loop: asyncio.AbstractEventLoop) -> None:
        self.services = services
        self.room = room
        self.loop = loop

    def timeline(self) -> tuple[float, int]:
        return 0.0, 0

    def recorded(self) -> tuple[list[Fragment], set[int]]:
        return [], set()

    def fragment(self, fragment: Fragment, discontinuity: bool, next_seq: int) -> None:
        self.services.store.add_fragment(fragment, discontinuity=discontinuity)
        self.services.store.advance_timeline(self.room, fragment.t1, next_seq)
        self.services.bus.publish_threadsafe(self.loop, topics.FRAGMENTS, self.room, fragment)

    def end(self, end: EndOfStream) -> None:
        self.services.bus.publish_threadsafe(self.loop, topics.FRAGMENTS, self.room, end)

    def skipped(self, count: int, reason: str) -> None:
        """The session logs it; a file's job keeps no room counters."""


class _OutputWriter:
    """Two small stages: utterances and rendered clips become lines of the job's JSONL files."""

    def __init__(
        self,
        result: FileResult,
        utterance_log: IO[str],
        clip_log: IO[str],
        out_dir: Path,
        services: LiveServices,
        progress: Progress | None,
    ) -> None:
        self.result = result
        self.utterance_log = utterance_log
        self.clip_log = clip_log
        self.out_dir = out_dir
        self.services = services
        self.progress = progress

    def stages(self) -> list[Any]:
        return [
            _Sink("write-utterances", topics.UTTERANCES, self.utterance),
            _Sink("write-clips", topics.CLIPS, self.clip),
        ]

    def utterance(self, utterance: Utterance) -> None:
        self.result.utterances.append(utterance)
        _write_line(self.utterance_log, {"source": str(self.result.source), **utterance.to_record()})
        if self.progress is not None:
            self.progress(utterance.t1)

    def clip(self, clip: ClipReady) -> None:
        """Copy the clip's files from the job's media store to `out_dir/clips/`; paths relative to `out_dir`."""
        local = {}
        for name in MEDIA_FIELDS:
            key = getattr(clip, name)
            if key:
                relative = "clips/" + key.rsplit("/clips/", 1)[-1]
                (self.out_dir / "clips").mkdir(exist_ok=True)
                shutil.copyfile(self.services.media.local_path(key), self.out_dir / relative)
                local[name] = relative
        clip = replace(clip, **local)
        self.result.clips.append(clip)
        _write_line(self.clip_log, clip.to_record())


class _Sink:
    """A stage that hands each event of a topic to a function and makes nothing."""

    policy = ErrorPolicy(attempts=1)

    def __init__(self, name: str, topic: str, write: Callable[[Any], None]) -> None:
        self.name = name
        self.topic = topic
        self.write = write

    def handle(self, key: str, event: Any) -> list[Emit]:
        self.write(event)
        return []

    def give_up(self, key: str, event: Any, reason: str) -> None:
        """The runner logged it; a line that could not be written is not retried."""


def _write_line(handle: IO[str], record: dict[str, Any]) -> None:
    handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    handle.flush()
