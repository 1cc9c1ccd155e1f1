"""Recovery on start (issue 11, finding 3): a process SIGKILLed mid-broadcast and mid-render left a room
`live` with its lease held, a clip `rendering`, and temp files; the next start puts each right.

The dead process is real (a child Python that takes the lease, queues the clip and writes its temp
files through the same code `livecut serve` uses, then is SIGKILLed); the store is SQLite on disk.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from livecut.contracts import Utterance, Word
from livecut.runtime.recovery import reconcile_store, scratch_dir
from livecut.store import MetadataStore

CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from livecut.contracts import ClipRequest
    from livecut.runtime.recovery import scratch_dir
    from livecut.store import MetadataStore

    data = Path(sys.argv[1])
    store = MetadataStore(data / "livecut.db")
    room = store.room(sys.argv[2])
    assert store.acquire_room(room.id, "ingest-dead", 15.0)
    store.set_room_status(room.id, "live")
    request = ClipRequest("clip-1", room.id, "room", 1.0, 3.5, "selling_point", "fabric", "面料", confidence=0.9)
    store.request_clip(request)
    scratch = scratch_dir(data)
    (scratch / "livecut-fragment-000007-abc.ts").write_bytes(b"")
    (scratch / "livecut-render-xyz").mkdir()
    (scratch / "livecut-render-xyz" / "span.mkv").write_bytes(b"half a clip")
    print(scratch, flush=True)
    time.sleep(60)
    """
)


def test_a_sigkilled_servers_room_clip_and_temp_files_are_put_right_on_start(tmp_path):
    store = MetadataStore(tmp_path / "livecut.db")
    room = store.create_room("r", "push", tenant="default")
    words = [Word(1.0, 2.0, "面料"), Word(2.0, 3.5, "是棉")]
    store.add_utterance(Utterance(room.id, 1.0, 3.5, "面料是棉", "zh", words=words))
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tmp_path), room.id],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    dead_scratch = Path(child.stdout.readline().strip())
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    child.stdout.close()
    assert store.room(room.id).status == "live" and store.clip("clip-1")["status"] == "rendering"
    assert not store.acquire_room(room.id, "ingest-new", 15.0), "the dead process's lease still holds"

    found = reconcile_store(store)
    own = scratch_dir(tmp_path)

    after = store.room(room.id)
    assert after.status == "reconnecting" and found.rooms == [room.id]
    assert store.acquire_room(room.id, "ingest-new", 15.0), "a returning publisher's key works at once"
    [request] = found.requests
    assert (request.clip_id, request.t0, request.t1, request.label, request.sublabel) == (
        "clip-1",
        1.0,
        3.5,
        "selling_point",
        "fabric",
    )
    assert [w.text for w in request.words] == ["面料", "是棉"] and store.needs_render("clip-1")
    assert not dead_scratch.exists(), "the dead process's fragment and render debris are gone"
    assert own.is_dir() and own.parent == tmp_path / "tmp" and list(own.iterdir()) == []
    store.close()


def test_a_live_processs_temp_folder_is_left_alone(tmp_path):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        theirs = tmp_path / "tmp" / str(sleeper.pid)
        theirs.mkdir(parents=True)
        (theirs / "livecut-fragment-000001-x.ts").write_bytes(b"being written")
        stray = tmp_path / "tmp" / "not-a-pid"
        stray.mkdir()
        scratch_dir(tmp_path)
        assert (theirs / "livecut-fragment-000001-x.ts").exists() and not stray.exists()
    finally:
        sleeper.kill()
        sleeper.wait()
