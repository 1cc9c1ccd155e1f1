"""The API's request bodies and responses, as pydantic models: they validate input and document the API."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from livecut.auth import TENANT_PATTERN, USERNAME_PATTERN, Role

PULL_SCHEMES = ("rtmp", "http", "https")
# Media-timeline seconds: finite (JSON has no NaN) and within a century of broadcast.
Seconds = Annotated[float, Field(ge=0, le=3.2e9, allow_inf_nan=False)]
Label = Annotated[str, Field(min_length=1, max_length=64)]
Id = Annotated[str, Field(min_length=1, max_length=64)]


class PushSource(BaseModel):
    type: Literal["push"]


class PullSource(BaseModel):
    type: Literal["pull"]
    url: str = Field(max_length=2000)

    @field_validator("url")
    @classmethod
    def _supported(cls, url: str) -> str:
        parsed = urlparse(url)
        if parsed.scheme not in PULL_SCHEMES or not parsed.netloc:
            raise ValueError("url must be rtmp://…, http(s)://….flv or http(s)://….m3u8")
        return url


class RoomCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    source: PushSource | PullSource = Field(discriminator="type")
    # Routes the room's reviews to the brand's own classifier model (classifier.brand_models).
    brand: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[\w-][\w.-]*$")


class ClipReview(BaseModel):
    action: Literal["approve", "reject", "relabel"]
    label: Label | None = None
    sublabel: Label | None = None


class BulkReview(BaseModel):
    clip_ids: list[Id] = Field(min_length=1, max_length=500)
    action: Literal["approve", "reject"]


class Span(BaseModel):
    """A range of the room's timeline, in seconds."""

    t0: Seconds
    t1: Seconds

    @model_validator(mode="after")
    def _ordered(self) -> Span:
        if self.t1 <= self.t0:
            raise ValueError("t1 must be after t0")
        return self


class RangeClip(Span):
    label: Label
    sublabel: Label | None = None


class Login(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class Me(BaseModel):
    username: str
    tenant: str
    role: Role


class UserCreate(BaseModel):
    username: str = Field(pattern=USERNAME_PATTERN)
    role: Role = "viewer"
    password: str | None = Field(
        default=None, min_length=8, max_length=256, description="left out: a password is generated and returned once"
    )


class PasswordChange(BaseModel):
    password: str | None = Field(
        default=None, min_length=8, max_length=256, description="left out: a password is generated and returned once"
    )


class UserOut(BaseModel):
    username: str
    tenant: str
    role: Role
    created_at: float
    password: str | None = Field(default=None, description="only when the server generated it; shown once")


class TokenCreate(BaseModel):
    name: str = Field(default="api", min_length=1, max_length=64)
    username: str | None = Field(default=None, max_length=64, description="a user of your tenant; default: you")


class TokenOut(BaseModel):
    id: str
    username: str
    tenant: str
    name: str
    created_at: float
    revoked_at: float | None = None
    token: str | None = Field(default=None, description="the token itself, only in the reply that creates it")


class GrantCreate(BaseModel):
    tenant: str = Field(pattern=TENANT_PATTERN, description="the MCN tenant that gets the room")
    room: Id


class GrantOut(BaseModel):
    tenant: str
    room: str
    owner: str
    created_at: float


class AuditEntry(BaseModel):
    at: float
    username: str
    tenant: str
    action: str
    target: str
    room: str | None = None
    detail: dict[str, Any]


class WordOut(BaseModel):
    t0: float
    t1: float
    text: str


class RoomOut(BaseModel):
    """A room. `stream_key` and `rtmp_url` only for push rooms, and only to operators and admins."""

    model_config = ConfigDict(extra="allow")

    id: str
    name: str
    tenant: str
    source: dict[str, Any]
    brand: str | None
    status: str
    error: str | None
    created_at: float
    updated_at: float
    started_at: float | None
    ended_at: float | None
    duration_s: float
    publishes: int
    processed_to: float
    counters: dict[str, Any]
    clips: int
    latency_p50_s: float | None
    playlist_url: str
    stream_key: str | None = None
    rtmp_url: str | None = None


class ClipOut(BaseModel):
    """A clip. Rendered ones also carry the record's fields (duration, confidence, compliance flags...)."""

    model_config = ConfigDict(extra="allow")

    clip_id: str
    room: str
    status: Literal["rendering", "ready", "approved", "rejected", "failed"]
    t0: float
    t1: float
    label: str
    sublabel: str | None
    text: str | None = None
    latency_s: float | None
    created_at: float
    updated_at: float
    error: str | None
    words: list[WordOut]
    video_url: str | None
    captions_url: str | None
    captions_vtt_url: str | None
    thumbnail_url: str | None
    vertical_url: str | None
