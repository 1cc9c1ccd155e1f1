"""What a process finds on start that a dead one (SIGKILL, power loss) left behind, put right.

Temp files: fragments being written and clips being rendered live under
`<data_dir>/tmp/<pid>/`, one folder per process; on start the folders of processes that no
longer run are deleted (the system temp folder is never used, so nothing piles up there).

The embedded server (`livecut serve`, the only process on its store) also reconciles the
store: a room left `live` has no publisher any more and becomes `reconnecting` (its key
works again at once: the dead process's ingest leases are released), and a clip left
`rendering` was lost with the in-memory bus, so its request is made again. With a shared
bus (Kafka) the unacknowledged requests come back by themselves and other workers may be
alive, so a worker only cleans its temp folders.
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from livecut.contracts import ClipRequest
from livecut.store import MetadataStore

log = logging.getLogger(__name__)

SCRATCH_FOLDER = "tmp"


def scratch_dir(data_dir: Path) -> Path:
    """This process's temp folder, <data_dir>/tmp/<pid>, created empty; dead processes' folders go."""
    root = data_dir / SCRATCH_FOLDER
    root.mkdir(parents=True, exist_ok=True)
    removed = [folder for folder in root.iterdir() if _left_by_dead_process(folder)]
    for folder in removed:
        shutil.rmtree(folder, ignore_errors=True) if folder.is_dir() else folder.unlink(missing_ok=True)
    if removed:
        log.warning("removed %d temp folder(s) of dead processes under %s", len(removed), root)
    own = root / str(os.getpid())
    shutil.rmtree(own, ignore_errors=True)  # a reused pid (pid 1 in a container): what is there is debris
    own.mkdir()
    return own


def _left_by_dead_process(folder: Path) -> bool:
    if not folder.name.isdigit():
        return True  # not a process's folder: nothing of ours writes there
    pid = int(folder.name)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, someone else's
    return False


@dataclass
class Reconciled:
    rooms: list[str] = field(default_factory=list)  # left live, now reconnecting
    requests: list[ClipRequest] = field(default_factory=list)  # clips left rendering, to request again


def reconcile_store(store: MetadataStore) -> Reconciled:
    """Put right what a dead embedded server left in its store; returns what was found."""
    found = Reconciled()
    for room in store.rooms():
        if room.lease_owner is not None:
            store.release_room(room.id, room.lease_owner)
        if room.status == "live":
            store.set_room_status(room.id, "reconnecting")
            found.rooms.append(room.id)
    for clip in store.clips(status="rendering", limit=100_000):
        found.requests.append(_request_again(store, clip))
    if found.rooms or found.requests:
        log.warning(
            "recovered from an unclean stop: %d room(s) left live are reconnecting, %d clip(s) left "
            "rendering are requested again",
            len(found.rooms),
            len(found.requests),
        )
    return found


def _request_again(store: MetadataStore, clip: dict) -> ClipRequest:
    room, t0, t1 = clip["room"], clip["t0"], clip["t1"]
    return ClipRequest(
        clip_id=clip["clip_id"],
        room=room,
        source=clip.get("source") or f"room:{room}",
        t0=t0,
        t1=t1,
        label=clip["label"],
        sublabel=clip["sublabel"],
        text=clip.get("text") or "",
        words=store.words(room, t0, t1),
        confidence=clip.get("confidence") or 0.0,
    )
