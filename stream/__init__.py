"""Media in and out of livecut: RTMP push, pulls, files, the ingest session, the fragment
recorder, HLS playlists and the media store (a local folder or S3).

The names load on first use, so importing the media store does not load PyAV.
"""

from importlib import import_module
from typing import Any

_EXPORTS = {
    "FileSource": "stream.file_source",
    "SourceError": "stream.file_source",
    "probe": "stream.file_source",
    "FragmentAudio": "stream.fragment_audio",
    "write_playlist": "stream.hls",
    "IngestError": "stream.ingest",
    "IngestSession": "stream.ingest",
    "RecordingSink": "stream.ingest",
    "build_media_store": "stream.media_factory",
    "InvalidKeyError": "stream.media_store",
    "LocalMediaStore": "stream.media_store",
    "MediaStore": "stream.media_store",
    "PullUrlRefused": "stream.pull_guard",
    "check_pull_url": "stream.pull_guard",
    "FragmentRecorder": "stream.recorder",
    "SpanUnavailableError": "stream.span",
    "assemble_span": "stream.span",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'stream' has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name]), name)
