"""Embedded RTMP ingest: many rooms push to one port, each accepted stream becomes an FLV pipe.

`RtmpServer` accepts publishers and checks their stream keys; each accepted publish is
handed to the pipeline as a `FlvStream` that PyAV demuxes from a worker thread.
`RtmpLimits` bounds what connections may cost (count, timeouts, memory before and after publishing).
"""

from .flv_stream import FlvBufferOverflow, FlvReaderGone, FlvStream
from .limits import LimitExceeded, RtmpLimits
from .server import Authorize, OnStream, RtmpServer
from .session import PublishRefused

__all__ = [
    "Authorize",
    "FlvBufferOverflow",
    "FlvReaderGone",
    "FlvStream",
    "LimitExceeded",
    "OnStream",
    "PublishRefused",
    "RtmpLimits",
    "RtmpServer",
]
