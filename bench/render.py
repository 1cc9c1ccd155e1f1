"""Wall and CPU time of rendering one live clip, as the render stage does it: span assembly, then the renderer.

zh_live.mp4 is recorded into 2 s fragments once (not timed); each clip span is then
assembled from the fragments and rendered with the default [render] settings, a few
times, and the median is printed. CPU is this process plus its children (ffmpeg).

    .venv/bin/python bench/render.py [--repeat N] [--vertical]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import av

from clipper.renderer import Renderer
from livecut.config import load_config
from livecut.contracts import ClipRequest, Fragment, Word, clip_id_for
from livecut.runtime.settings import render_settings
from stream.media_store import LocalMediaStore
from stream.recorder import FragmentRecorder
from stream.span import assemble_span

SOURCE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "zh_live.mp4"
SPANS = [(3.3, 15.1), (21.7, 41.2), (50.4, 63.0)]


def words() -> list[Word]:
    """The fixture's sentences as evenly spread characters, so the clips have captions."""
    script = json.loads(SOURCE.with_suffix(".json").read_text(encoding="utf-8"))
    result = []
    for sentence in script["sentences"]:
        step = (sentence["t1"] - sentence["t0"]) / len(sentence["text"])
        start = sentence["t0"]
        result += [Word(start + i * step, start + (i + 1) * step, ch) for i, ch in enumerate(sentence["text"])]
    return result


def record(store: LocalMediaStore) -> list[Fragment]:
    """The fixture's packets through a recorder, as a live room stores them."""
    with av.open(str(SOURCE)) as container:
        recorder = FragmentRecorder("bench", store, list(container.streams))
        fragments = [f for packet in container.demux() for f in recorder.add(packet)]
    return fragments + recorder.close()


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def clip_request(t0: float, t1: float) -> ClipRequest:
    said = [w for w in words() if t0 < w.t1 and w.t0 < t1]
    return ClipRequest(clip_id_for("bench", t0, t1, "bench", None), "bench", "bench", t0, t1, "bench", None, "", said)


def render_once(renderer: Renderer, store: LocalMediaStore, fragments: list[Fragment], request: ClipRequest) -> None:
    """What RenderStage._render does, minus moving the files into the media store."""
    t0, t1 = request.t0, request.t1
    with tempfile.TemporaryDirectory(prefix="bench-span-") as scratch:
        span = Path(scratch) / "span.mkv"
        offset = assemble_span(store, fragments, t0, t1, span)
        renderer.render(request, span, source_offset=offset)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="renders per span (median reported)")
    parser.add_argument("--vertical", action="store_true", help="also render the 9:16 version")
    args = parser.parse_args()
    settings = replace(render_settings(load_config()), vertical=args.vertical)
    with tempfile.TemporaryDirectory(prefix="bench-render-") as work:
        store = LocalMediaStore(Path(work) / "store")
        fragments = record(store)
        renderer = Renderer(settings, Path(work) / "out")
        print(f"{'span s':>14} {'clip s':>7} {'wall s':>7} {'cpu s':>7}")
        for t0, t1 in SPANS:
            request = clip_request(t0, t1)
            walls, cpus = [], []
            for _ in range(args.repeat):
                wall, cpu = time.perf_counter(), cpu_seconds()
                render_once(renderer, store, fragments, request)
                walls.append(time.perf_counter() - wall)
                cpus.append(cpu_seconds() - cpu)
            span = f"{t0:.1f}-{t1:.1f}"
            print(f"{span:>14} {t1 - t0:7.1f} {statistics.median(walls):7.3f} {statistics.median(cpus):7.3f}")


if __name__ == "__main__":
    main()
