"""Issue 12 on the live path: every selling point becomes a clip carrying its sublabel, on the samples
tests/test_live.py does not compare with the batch run (en_live, zh_heldout).

Both samples are published at once over RTMP by real ffmpeg publishers into the session's `livecut serve`,
faster than real time (the server takes a stream at any pace; tests/test_live.py covers real-time pacing).
The batch path's twin of these checks is tests/segmenter/test_no_selling_point_lost.py; both use the
assertions in support.py.
"""

from __future__ import annotations

import json

import pytest
from support import (
    FIXTURES,
    assert_script_selling_points_clipped,
    assert_selling_points_in_clips,
    publish,
    settled,
    wait_for,
)

SAMPLES = ("en_live", "zh_heldout")


@pytest.fixture(scope="module")
def live_rooms(server) -> dict[str, tuple[list[dict], list[dict]]]:
    """Each sample's (utterances, clips) as the server made them from its broadcast."""
    api = server["api"]
    rooms = {name: api.create_push_room(f"selling points {name}") for name in SAMPLES}
    publishers = [publish(FIXTURES / f"{name}.mp4", rooms[name]["rtmp_url"]) for name in SAMPLES]
    assert [p.wait(timeout=60) for p in publishers] == [0] * len(SAMPLES)
    for name, room in rooms.items():
        wait_for(lambda room=room: settled(api, room["id"]), timeout=300, what=f"room {name} to settle")
    return {
        name: (api.get(f"/api/rooms/{room['id']}/utterances")[1], api.clips(room["id"])) for name, room in rooms.items()
    }


@pytest.mark.parametrize("name", SAMPLES)
def test_every_utterance_labeled_selling_point_is_in_a_clip_with_its_sublabel(live_rooms, name):
    utterances, clips = live_rooms[name]
    assert clips and all(c["status"] == "ready" for c in clips), [(c["status"], c.get("error")) for c in clips]
    assert_selling_points_in_clips(name, utterances, clips)


@pytest.mark.parametrize("name", SAMPLES)
def test_every_selling_point_of_the_script_is_in_a_selling_point_clip(live_rooms, name):
    script = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    assert_script_selling_points_clipped(name, script, live_rooms[name][1])
