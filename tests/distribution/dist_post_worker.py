"""A posting worker in its own process, so a test can SIGKILL it mid-upload: posts one Douyin video
with a file-backed journal and prints the outcome as JSON."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

from distribution import (
    Account,
    Caption,
    Credentials,
    DouyinPoster,
    FileJournal,
    PostJob,
    load_rules,
    run_attempt,
)


def main() -> None:
    base, journal_dir, video = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    rules = load_rules("douyin")
    rules = replace(rules, posting={**rules.posting, "chunk_above_mb": 10, "part_mb": 5})
    account = Account("acc-1", "tenant-a", "douyin", "shop", extra={"open_id": "open-1"})
    job = PostJob("post-kill", account, video, Caption("kill test"))
    outcome = run_attempt(job, DouyinPoster(rules, base_url=base), Credentials("tok-1"), FileJournal(journal_dir))
    print(json.dumps({"status": str(outcome.status), "id": outcome.result.platform_id if outcome.result else ""}))


if __name__ == "__main__":
    main()
