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
    product: str | None = Field(default=None, description="the sku of the product the clip shows, from the lineup")


# catalog ------------------------------------------------------------------------------------
Sku = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^\w[\w.-]*$")]
Alias = Annotated[str, Field(min_length=1, max_length=64)]
Price = Annotated[float, Field(ge=0, le=1e9, allow_inf_nan=False)]
ProductStep = Literal["images", "attributes", "copy", "layout", "ready"]


class ProductCreate(BaseModel):
    """A product of your tenant. Images are uploaded afterwards (POST /api/products/{id}/images)."""

    model_config = ConfigDict(extra="forbid")

    sku: Sku
    title: str = Field(min_length=1, max_length=300)
    category: str | None = Field(default=None, min_length=1, max_length=64)
    brand: str | None = Field(default=None, min_length=1, max_length=64)
    price: Price | None = None
    aliases: list[Alias] = Field(default_factory=list, max_length=50, description="what the host calls it on air")
    description: str = Field(default="", max_length=5000)
    titles: dict[str, Annotated[str, Field(min_length=1, max_length=300)]] = Field(
        default_factory=dict, description="a shorter title per platform key, where the title is over its limit"
    )
    attributes: dict[str, Any] = Field(default_factory=dict, description="confirmed attribute values by key")


class ProductPatch(BaseModel):
    """The fields to change; the others stay."""

    model_config = ConfigDict(extra="forbid")

    sku: Sku | None = None
    title: str | None = Field(default=None, min_length=1, max_length=300)
    category: str | None = Field(default=None, min_length=1, max_length=64)
    brand: str | None = Field(default=None, min_length=1, max_length=64)
    price: Price | None = None
    aliases: list[Alias] | None = Field(default=None, max_length=50)
    description: str | None = Field(default=None, max_length=5000)
    titles: dict[str, Annotated[str, Field(min_length=1, max_length=300)]] | None = None
    attributes: dict[str, Any] | None = None


class ProductOut(BaseModel):
    id: str
    tenant: str
    sku: str
    title: str
    category: str | None
    brand: str | None
    price: float | None
    images: list[str] = Field(description="media-store keys; GET /media/<key> serves each")
    image_urls: list[str]
    aliases: list[str]
    description: str
    titles: dict[str, str]
    attributes: dict[str, Any]
    extraction: dict[str, Any] | None = Field(description="the last extraction: values with confidence and evidence")
    step: ProductStep
    created_at: float
    updated_at: float


# -- distribution: accounts, plans, posts ---------------------------------------------------------
AccountId = Annotated[str, Field(pattern=r"^[\w][\w.-]{0,63}$")]
Window = Annotated[str, Field(pattern=r"^\d{2}:\d{2}-\d{2}:\d{2}$", description="HH:MM-HH:MM, local time")]
GroupName = Annotated[str, Field(max_length=64)]
# Unix seconds, finite.
Time = Annotated[float, Field(ge=0, le=1e10, allow_inf_nan=False)]


class CredentialsIn(BaseModel):
    """OAuth tokens of an account: encrypted with the server's key at once, never shown again."""

    access_token: str = Field(min_length=1, max_length=4096)
    refresh_token: str = Field(default="", max_length=4096)
    expires_in: Annotated[float, Field(ge=0, le=1e9, allow_inf_nan=False)] = Field(
        default=0, description="seconds the access token lives (0 = no expiry)"
    )
    refresh_expires_in: Annotated[float, Field(ge=0, le=1e9, allow_inf_nan=False)] = 0
    scope: str = Field(default="", max_length=1000)


class AccountFields(BaseModel):
    display_name: str | None = Field(default=None, min_length=1, max_length=200)
    group: GroupName | None = None
    windows: list[Window] | None = Field(default=None, min_length=1, max_length=12)
    timezone: str | None = Field(default=None, min_length=1, max_length=64)
    daily_cap: int | None = Field(default=None, ge=0, le=1000)
    min_spacing_s: int | None = Field(default=None, ge=0, le=86400 * 7)
    extra: dict[Annotated[str, Field(max_length=64)], Annotated[str, Field(max_length=2000)]] | None = Field(
        default=None, max_length=20, description="platform ids (Douyin open_id, a webhook url): never secrets"
    )


class AccountCreate(AccountFields):
    account_id: AccountId
    platform: str = Field(min_length=1, max_length=32)
    display_name: str = Field(min_length=1, max_length=200)
    credentials: CredentialsIn | None = None


class AccountOut(BaseModel):
    account_id: str
    tenant: str
    platform: str
    display_name: str
    group: str
    windows: list[str]
    timezone: str
    daily_cap: int
    min_spacing_s: int
    status: str
    extra: dict[str, str]
    has_credentials: bool
    created_at: float
    updated_at: float


class StepConfirm(BaseModel):
    """Approve the product's current step as it is, or edit it (the edit is what gets confirmed).

    images: changes {"images": [keys]} (a subset of the product's images, in order);
    attributes: changes {"attributes": {key: value or null}} over the extracted values, and
    `examples` of the brand's own words ({"attribute", "phrase", "value"}); copy: changes
    {"title", "titles", "description"}; layout: changes {"images": [the same keys, main image first]}.
    """

    model_config = ConfigDict(extra="forbid")

    action: Literal["approve", "edit"]
    changes: dict[str, Any] = Field(default_factory=dict)
    examples: list[dict[str, Any]] = Field(default_factory=list, max_length=100)


class LineupItem(BaseModel):
    link: int = Field(ge=1, le=999, description="the link number the host says (1号链接)")
    sku: Sku


class LineupSet(BaseModel):
    entries: list[LineupItem] = Field(max_length=500)


class LineupOut(BaseModel):
    link: int
    product: ProductOut


class PostCaption(BaseModel):
    """What goes with the video; the title defaults to the clip's text. Never shortened: a text over
    a platform's limit fails pre-flight with the reason."""

    title: str = Field(default="", max_length=500)
    description: str = Field(default="", max_length=5000)
    tags: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(default_factory=list, max_length=30)
    product_url: str = Field(default="", max_length=2000)


class PlanCreate(BaseModel):
    clip_ids: list[Id] = Field(min_length=1, max_length=500)
    group: GroupName = ""
    day: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$", description="YYYY-MM-DD, each account's local date")
    priority: int = Field(default=0, ge=-1000, le=1000)
    caption: PostCaption = Field(default_factory=PostCaption)


class ScheduleClip(BaseModel):
    group: GroupName = ""
    priority: int = Field(default=0, ge=-1000, le=1000)
    caption: PostCaption = Field(default_factory=PostCaption)


class PostMove(BaseModel):
    at: Time


class MarkPosted(BaseModel):
    url: str = Field(default="", max_length=2000)
    platform_id: str = Field(default="", max_length=200)


class PostRetry(BaseModel):
    override_duplicate: bool = Field(default=False, description="post it although it resembles a recent post")


class AttemptOut(BaseModel):
    attempt: int
    started_at: float
    finished_at: float
    status: str
    error_kind: str | None
    platform_code: str | None
    reason: str | None


class PostOut(BaseModel):
    post_id: str
    clip_id: str
    account_id: str
    tenant: str
    at: float
    priority: int
    status: str
    retry_at: float | None
    attempts: int
    platform_id: str | None
    url: str | None
    reason: str | None
    override_duplicate: bool
    caption: dict[str, Any]
    created_at: float
    updated_at: float
    attempt_log: list[AttemptOut] = Field(default_factory=list)
    metrics: list[dict[str, Any]] = Field(default_factory=list)


class DetailSlotEdit(BaseModel):
    """A person's text for a text slot, or another of the product's images (its media key) for an image slot."""

    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(default=None, max_length=2000)
    image: str | None = Field(default=None, min_length=1, max_length=300)

    @model_validator(mode="after")
    def _one_of(self) -> DetailSlotEdit:
        if (self.text is None) == (self.image is None):
            raise ValueError("give text (a text slot) or image (an image slot), one of them")
        return self


class DetailPageMove(BaseModel):
    model_config = ConfigDict(extra="forbid")

    index: int = Field(ge=0, le=100, description="the page's new position, 0 first")


class DetailRenderAsk(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platforms: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        min_length=1, max_length=20, description='platform keys (taobao, jd ...) or ["all"]'
    )


class DetailImageRole(BaseModel):
    """A person's fix of an image's detected role."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(min_length=1, max_length=300, description="the image's media key")
    role: Literal["model", "mannequin", "packshot", "flat_lay", "detail", "label"]
