"""Bus topics, each bound to the event types it carries. Topic = event kind, key = room id."""

from __future__ import annotations

from livecut.contracts.events import ClipReady, ClipRequest, EndOfStream, Fragment, Utterance
from livecut.contracts.posts import PostDue

# Fragments and the EndOfStream after a room's last one share a topic, so they stay in order.
FRAGMENTS = "fragments"
UTTERANCES = "utterances"
CLIP_REQUESTS = "clip_requests"
CLIPS = "clips"
# Posts whose time came (the post role); key = post id.
POSTS = "posts"

TOPIC_TYPES: dict[str, tuple[type, ...]] = {
    FRAGMENTS: (Fragment, EndOfStream),
    UTTERANCES: (Utterance,),
    CLIP_REQUESTS: (ClipRequest,),
    CLIPS: (ClipReady,),
    POSTS: (PostDue,),
}
TOPICS = tuple(TOPIC_TYPES)


def check_event(topic: str, event: object) -> None:
    """Raises TypeError when `event` is not a type the topic carries: a wiring mistake, found at once."""
    carries = TOPIC_TYPES.get(topic)
    if carries is None:
        raise TypeError(f"unknown topic {topic!r} (known: {', '.join(TOPICS)})")
    if not isinstance(event, carries):
        names = ", ".join(cls.__name__ for cls in carries)
        raise TypeError(f"topic {topic!r} carries {names}, not {type(event).__name__}")
