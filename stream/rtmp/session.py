"""One publisher connection: RTMP commands in, FLV tags out to the room's FlvStream.

The session answers the publish handshake (connect, createStream, publish) that ffmpeg,
OBS and librtmp encoders send, asks the server's gate whether the stream key may publish
(before any media is accepted), then turns audio, video, aggregate and `onMetaData`
messages into FLV tags carrying the RTMP timestamps. Anything else a publisher sends is
acknowledged or ignored; playing is not offered, this is an ingest endpoint.
"""

from __future__ import annotations

import asyncio
import logging
import struct
from dataclasses import dataclass, field
from typing import Any, Protocol

from . import amf0
from .flv_stream import (
    TAG_AUDIO,
    TAG_SCRIPT,
    TAG_VIDEO,
    FlvBufferOverflow,
    FlvReaderGone,
    FlvStream,
    flv_header,
    flv_tag,
)
from .limits import LimitExceeded, MemoryBudget, RtmpLimits
from .protocol import (
    ABORT,
    ACKNOWLEDGEMENT,
    AGGREGATE,
    AUDIO,
    COMMAND_AMF0,
    COMMAND_AMF3,
    DATA_AMF0,
    DATA_AMF3,
    SET_CHUNK_SIZE,
    SET_PEER_BANDWIDTH,
    USER_CONTROL,
    USER_PING_REQUEST,
    USER_PING_RESPONSE,
    USER_STREAM_BEGIN,
    VIDEO,
    WINDOW_ACK_SIZE,
    ChunkReader,
    Message,
    ProtocolError,
    control,
    encode_message,
    server_handshake,
    user_control,
)

log = logging.getLogger(__name__)

OUT_CHUNK_SIZE = 4096
WINDOW_SIZE = 2_500_000
COMMAND_CSID = 3
_MEDIA_TAGS = {AUDIO: TAG_AUDIO, VIDEO: TAG_VIDEO}
_MEDIA_TYPES = {AUDIO, VIDEO, AGGREGATE}  # only these keep a publishing connection from timing out
_END_COMMANDS = {"FCUnpublish", "deleteStream", "closeStream"}


class PublishRefused(Exception):
    """The gate will not let this stream key publish; the message says why (the publisher is told it).
    `authorize` may raise it too, to refuse with its own reason."""


class PublishGate(Protocol):
    """What a session needs from the server: admission of a publish, and its release."""

    async def open_publish(self, session: RtmpSession, app: str, key: str) -> tuple[str, FlvStream]: ...

    def close_publish(self, session: RtmpSession, room: str, stream: FlvStream) -> None: ...


class _Close(Exception):
    """End the connection; the reason has been logged already."""


class StreamChanged(Exception):
    """A publisher switched codec mid-stream: the demuxer cannot follow, the encoder must reconnect."""


def _codec_of(tag_type: int, payload: bytes) -> int | bytes:
    """The codec an FLV audio or video tag names: SoundFormat, CodecID, or an enhanced-RTMP FourCC."""
    if tag_type == TAG_AUDIO:
        return payload[0] >> 4
    if payload[0] & 0x80 and len(payload) >= 5:  # enhanced RTMP: IsExHeader, then a FourCC
        return bytes(payload[1:5])
    return payload[0] & 0x0F


@dataclass
class _Publish:
    room: str
    stream: FlvStream
    header_written: bool = False
    codecs: dict[int, int | bytes] = field(default_factory=dict)  # tag type -> codec of its first tag


def mask_key(key: str) -> str:
    """A stream key is a secret: logs show only its first characters."""
    return key[:3] + "***" if len(key) > 6 else "***"


class RtmpSession:
    """Serves one TCP connection until the peer leaves, breaks the protocol or the server stops."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        gate: PublishGate,
        limits: RtmpLimits,
        budget: MemoryBudget,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._gate = gate
        self._limits = limits
        self._chunks = ChunkReader(reader, limits.pre_publish_bytes, budget)
        self._deadline: asyncio.Timeout | None = None
        self._out_chunk_size = 128
        self._ack_window = 0
        self._acked = 0
        self._next_stream_id = 1
        self._publish: _Publish | None = None
        self._published = False  # a publish was accepted on this connection (it may have ended since)
        self.app: str | None = None
        self.media_messages = 0
        self.dropped_messages = 0
        self.key: str | None = None  # the stream key of the accepted publish
        self._last_media = 0.0  # loop time of the last media message (or of the publish)
        peer = writer.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)

    @property
    def room(self) -> str | None:
        return self._publish.room if self._publish else None

    def silent_s(self) -> float:
        """Seconds since this publisher last sent media (or since its publish, before any)."""
        return asyncio.get_running_loop().time() - self._last_media

    async def run(self) -> None:
        """Serve the connection; returns when it is over, having closed it and ended any publish."""
        stage = "handshake"
        try:
            async with asyncio.timeout(self._limits.handshake_timeout_s):
                await server_handshake(self._reader, self._writer)
            stage = "serve"
            await self._serve()
        except _Close:
            pass
        except (asyncio.IncompleteReadError, ConnectionError):
            log.info("%s: disconnected%s", self.peer, f" (room {self.room})" if self.room else "")
        except FlvBufferOverflow as exc:
            log.error("%s: room %s: reader fell behind, dropping publisher: %s", self.peer, self.room, exc)
        except FlvReaderGone as exc:
            log.warning("%s: room %s: recording stopped, dropping publisher: %s", self.peer, self.room, exc)
        except StreamChanged as exc:
            log.warning("%s: room %s: %s; closing so the encoder reconnects", self.peer, self.room, exc)
        except LimitExceeded as exc:
            what = f"room {self.room}" if self.room else "before publishing"
            log.warning("%s: %s: limit reached, closing: %s", self.peer, what, exc)
        except TimeoutError:
            log.warning("%s: %s, closing", self.peer, self._timeout_reason(stage))
        except (ProtocolError, amf0.AmfError, struct.error, IndexError, ValueError) as exc:
            log.warning("%s: protocol error, closing: %s", self.peer, exc)
        except Exception:
            log.exception("%s: session failed", self.peer)
        finally:
            self._end_publish()
            self._chunks.close()
            self._writer.close()

    def _timeout_reason(self, stage: str) -> str:
        limits = self._limits
        if stage == "handshake":
            return f"no RTMP handshake within {limits.handshake_timeout_s:g} s (rtmp.handshake_timeout_s)"
        if self._published:
            return f"no media for {limits.idle_timeout_s:g} s (rtmp.idle_timeout_s)"
        return f"no publish within {limits.publish_timeout_s:g} s of connecting (rtmp.publish_timeout_s)"

    async def _serve(self) -> None:
        """Until a publish is accepted the deadline is fixed; after, each media message pushes it back."""
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(self._limits.publish_timeout_s) as deadline:
            self._deadline = deadline
            while True:
                message = await self._chunks.read_message()
                if self._publish is not None and message.type_id in _MEDIA_TYPES:
                    self._last_media = loop.time()
                    deadline.reschedule(loop.time() + self._limits.idle_timeout_s)
                await self._dispatch(message)
                self._acknowledge()

    async def _dispatch(self, message: Message) -> None:
        kind = message.type_id
        if kind in _MEDIA_TAGS:
            self._media(_MEDIA_TAGS[kind], message.timestamp, message.payload)
        elif kind == AGGREGATE:
            self._aggregate(message)
        elif kind in (DATA_AMF0, DATA_AMF3):
            self._data(message.payload[1:] if kind == DATA_AMF3 else message.payload, message.timestamp)
        elif kind in (COMMAND_AMF0, COMMAND_AMF3):
            await self._command(message, message.payload[1:] if kind == COMMAND_AMF3 else message.payload)
        else:
            self._protocol_control(message)

    def _protocol_control(self, message: Message) -> None:
        kind, payload = message.type_id, message.payload
        if kind == SET_CHUNK_SIZE:
            self._chunks.set_chunk_size(struct.unpack(">I", payload[:4])[0] & 0x7FFFFFFF)
        elif kind == ABORT:
            self._chunks.abort(struct.unpack(">I", payload[:4])[0])
        elif kind == WINDOW_ACK_SIZE:
            self._ack_window = struct.unpack(">I", payload[:4])[0]
        elif kind == USER_CONTROL and struct.unpack(">H", payload[:2])[0] == USER_PING_REQUEST:
            self._writer.write(user_control(USER_PING_RESPONSE, payload[2:6]))
        elif kind not in (ACKNOWLEDGEMENT, SET_PEER_BANDWIDTH, USER_CONTROL):
            log.debug("%s: ignoring message type %d", self.peer, kind)

    def _acknowledge(self) -> None:
        received = self._chunks.bytes_read
        if self._ack_window and received - self._acked >= self._ack_window:
            self._writer.write(control(ACKNOWLEDGEMENT, struct.pack(">I", received & 0xFFFFFFFF)))
            self._acked = received

    # --- commands -------------------------------------------------------------------------

    async def _command(self, message: Message, payload: bytes) -> None:
        values = amf0.decode_all(payload)
        name = values[0] if values else None
        txn = values[1] if len(values) > 1 else 0
        if name == "connect":
            await self._on_connect(txn, values[2] if len(values) > 2 else None)
        elif name == "createStream":
            await self._send_command(0, "_result", txn, None, self._new_stream_id())
        elif name in ("releaseStream", "FCPublish"):
            await self._send_command(0, "_result", txn, None)
        elif name == "publish":
            await self._on_publish(message.stream_id, values[3] if len(values) > 3 else None)
        elif name in _END_COMMANDS:
            self._end_publish()
        elif name in ("play", "play2"):
            log.warning("%s: refused to play (this endpoint only ingests)", self.peer)
            await self._send_status(message.stream_id, "error", "NetStream.Play.Failed", "ingest only")
            raise _Close
        else:
            log.debug("%s: ignoring command %r", self.peer, name)

    def _new_stream_id(self) -> int:
        stream_id, self._next_stream_id = self._next_stream_id, self._next_stream_id + 1
        return stream_id

    async def _on_connect(self, txn: Any, command_object: Any) -> None:
        if not isinstance(command_object, dict):
            raise ProtocolError("connect without a command object")
        self.app = str(command_object.get("app") or "").strip("/")
        self._writer.write(control(WINDOW_ACK_SIZE, struct.pack(">I", WINDOW_SIZE)))
        self._writer.write(control(SET_PEER_BANDWIDTH, struct.pack(">IB", WINDOW_SIZE, 2)))
        self._writer.write(control(SET_CHUNK_SIZE, struct.pack(">I", OUT_CHUNK_SIZE)))
        self._out_chunk_size = OUT_CHUNK_SIZE
        properties = {"fmsVer": "FMS/3,0,1,123", "capabilities": 31}
        status = {
            "level": "status",
            "code": "NetConnection.Connect.Success",
            "description": "Connection succeeded.",
            "objectEncoding": 0,
        }
        await self._send_command(0, "_result", txn, properties, status)

    async def _on_publish(self, stream_id: int, key: Any) -> None:
        if self.app is None or not isinstance(key, str):
            raise ProtocolError("publish before connect, or without a stream name")
        if self._publish is not None:
            raise ProtocolError("a second publish on one connection")
        try:
            room, stream = await self._gate.open_publish(self, self.app, key)
        except PublishRefused as refusal:
            log.warning("%s: refused publish app=%r key=%s: %s", self.peer, self.app, mask_key(key), refusal)
            await self._send_status(stream_id, "error", "NetStream.Publish.BadName", str(refusal))
            raise _Close from None
        self._publish = _Publish(room, stream)
        self._published = True
        self.key = key
        self._last_media = asyncio.get_running_loop().time()
        self._chunks.max_pending = self._limits.message_bytes
        if self._deadline is not None:
            self._deadline.reschedule(asyncio.get_running_loop().time() + self._limits.idle_timeout_s)
        self._writer.write(user_control(USER_STREAM_BEGIN, struct.pack(">I", stream_id)))
        await self._send_status(stream_id, "status", "NetStream.Publish.Start", f"{key} is now published.")
        log.info("%s: room %s publishing (app=%r key=%s)", self.peer, room, self.app, mask_key(key))

    async def _send_status(self, stream_id: int, level: str, code: str, description: str) -> None:
        info = {"level": level, "code": code, "description": description}
        await self._send_command(stream_id, "onStatus", 0, None, info)

    async def _send_command(self, stream_id: int, *values: Any) -> None:
        message = Message(COMMAND_AMF0, stream_id, 0, amf0.encode(*values))
        self._writer.write(encode_message(message, COMMAND_CSID, self._out_chunk_size))
        await self._writer.drain()

    def _end_publish(self) -> None:
        publish, self._publish = self._publish, None
        if publish is not None:
            self._gate.close_publish(self, publish.room, publish.stream)
            log.info("%s: room %s publish ended", self.peer, publish.room)

    # --- media ----------------------------------------------------------------------------

    def _media(self, tag_type: int, timestamp: int, payload: bytes) -> None:
        publish = self._publish
        if publish is None:
            self.dropped_messages += 1
            return
        if not payload:
            return
        codec = _codec_of(tag_type, payload)
        first = publish.codecs.setdefault(tag_type, codec)
        if codec != first:
            kind = "audio" if tag_type == TAG_AUDIO else "video"
            raise StreamChanged(f"{kind} codec changed mid-stream ({first!r} to {codec!r})")
        if not publish.header_written:
            publish.stream.write(flv_header())
            publish.header_written = True
        publish.stream.write(flv_tag(tag_type, timestamp, payload))
        self.media_messages += 1

    def _data(self, payload: bytes, timestamp: int) -> None:
        name, offset = amf0.decode(payload)
        if name == "@setDataFrame":
            payload = payload[offset:]
            name, offset = amf0.decode(payload)
        if name == "onMetaData":
            self._metadata(payload, offset, timestamp)
        else:
            log.debug("%s: ignoring data message %r", self.peer, name)

    def _metadata(self, payload: bytes, offset: int, timestamp: int) -> None:
        publish = self._publish
        if publish is None:
            return
        if not publish.header_written:
            publish.stream.write(_header_for_metadata(payload, offset))
            publish.header_written = True
        publish.stream.write(flv_tag(TAG_SCRIPT, timestamp, payload))

    def _aggregate(self, message: Message) -> None:
        """An aggregate message is a run of FLV tags whose timestamps are relative to the first."""
        payload, offset, first = message.payload, 0, None
        while offset + 11 <= len(payload):
            tag_type, size = payload[offset], int.from_bytes(payload[offset + 1 : offset + 4], "big")
            stamp = int.from_bytes(payload[offset + 4 : offset + 7], "big") | payload[offset + 7] << 24
            body = payload[offset + 11 : offset + 11 + size]
            if len(body) < size:
                raise ProtocolError("truncated aggregate message")
            first = stamp if first is None else first
            timestamp = (message.timestamp + stamp - first) & 0xFFFFFFFF
            if tag_type in (TAG_AUDIO, TAG_VIDEO):
                self._media(tag_type, timestamp, body)
            elif tag_type == TAG_SCRIPT:
                self._data(body, timestamp)
            offset += 11 + size + 4


def _header_for_metadata(payload: bytes, offset: int) -> bytes:
    """The FLV header flags say which streams to wait for; take them from onMetaData when it has them."""
    try:
        meta, _ = amf0.decode(payload, offset)
    except amf0.AmfError:
        return flv_header()
    if not isinstance(meta, dict) or not ({"audiocodecid", "videocodecid"} & meta.keys()):
        return flv_header()
    return flv_header(has_audio="audiocodecid" in meta, has_video="videocodecid" in meta)
