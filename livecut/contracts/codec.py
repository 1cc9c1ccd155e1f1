"""The wire format of the events that travel on the bus topics: versioned JSON.

A value is UTF-8 JSON: {"v": 1, "type": "Fragment", "data": {...the dataclass fields...}}.
Decoding gives a dataclass equal to the one encoded. A value that cannot be decoded (not
JSON, an unknown version or type, fields the type does not have) raises CodecError, so a
consumer can log it and skip it instead of crashing on it.

Compatibility: a new field with a default is read from old values (it takes the default);
a value carrying a field this code does not know is refused, so upgrade consumers first.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from livecut.contracts.events import ClipReady, ClipRequest, Correction, EndOfStream, Fragment, Utterance, Word
from livecut.contracts.posts import PostDue

VERSION = 1
Event = Fragment | EndOfStream | Utterance | ClipRequest | ClipReady | PostDue
EVENT_TYPES: dict[str, type[Event]] = {
    cls.__name__: cls for cls in (Fragment, EndOfStream, Utterance, ClipRequest, ClipReady, PostDue)
}
# Fields that hold a list of dataclasses (Word, Correction); JSON carries them as plain objects.
OBJECT_LISTS: dict[str, type] = {"words": Word, "corrections": Correction}


class CodecError(ValueError):
    """A bus value that is not a known event of a known schema version."""


def encode(event: Any) -> bytes:
    """The JSON value of a bus event; raises CodecError for anything that is not one."""
    name = type(event).__name__
    if EVENT_TYPES.get(name) is not type(event):
        raise CodecError(f"{name} is not a bus event (known: {', '.join(EVENT_TYPES)})")
    document = {"v": VERSION, "type": name, "data": dataclasses.asdict(event)}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def decode(value: bytes) -> Any:
    """The event a value encodes; raises CodecError with the reason when it cannot be read."""
    document = _parse(value)
    version, name, data = document.get("v"), document.get("type"), document.get("data")
    if version != VERSION:
        raise CodecError(f"unsupported event schema version {version!r} (this code reads version {VERSION})")
    cls = EVENT_TYPES.get(name) if isinstance(name, str) else None
    if cls is None:
        raise CodecError(f"unknown event type {name!r} (known: {', '.join(EVENT_TYPES)})")
    if not isinstance(data, dict):
        raise CodecError(f"{name} value has no 'data' object")
    return _build(cls, data)


def _parse(value: bytes) -> dict[str, Any]:
    try:
        document = json.loads(value)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CodecError(f"event value is not UTF-8 JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise CodecError(f"event value is a JSON {type(document).__name__}, not an object")
    return document


def _build(cls: type, data: dict[str, Any]) -> Any:
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise CodecError(f"{cls.__name__} has no field(s) {', '.join(unknown)}")
    fields = dict(data)
    try:
        for name in OBJECT_LISTS.keys() & fields.keys():
            fields[name] = [OBJECT_LISTS[name](**item) for item in fields[name]]
        return cls(**fields)
    except TypeError as exc:
        raise CodecError(f"malformed {cls.__name__}: {exc}") from exc
