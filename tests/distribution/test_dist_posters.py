"""Each posting protocol against a local server that speaks it (dist_fakes: the real APIs cannot be
reached from tests), including its errors: token expiry and refresh, rate limit, quota, a spec
violation, a banned account, a 500, a malformed reply, and a 200 MB chunked upload."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import pytest
from dist_helpers import account, job_for, rules_with, sparse_file

from distribution import (
    AccountStatus,
    AppCredentials,
    Credentials,
    DouyinPoster,
    ErrorKind,
    HandoffPoster,
    KuaishouPoster,
    MemoryJournal,
    OAuthRefresher,
    PostError,
    PostStatus,
    TikTokPoster,
    WebhookPoster,
    YouTubePoster,
    douyin_video_data,
    load_rules,
    poster_for,
    run_attempt,
)
from distribution.posters.webhook import sign

MB = 1024 * 1024
NOW = 1_800_000_000.0


def douyin(fake) -> DouyinPoster:
    return DouyinPoster(load_rules("douyin"), base_url=fake.base)


def refresher(fake, platform: str = "douyin") -> OAuthRefresher:
    return OAuthRefresher(platform, AppCredentials("client-key", "client-secret"), base_url=fake.base)


def part_digests(path: Path, part: int) -> str:
    data = path.read_bytes() if path.stat().st_size < 50 * MB else None
    digests = []
    with open(path, "rb") as handle:
        while block := handle.read(part):
            digests.append(hashlib.sha256(block).hexdigest())
    del data
    return hashlib.sha256("".join(digests).encode()).hexdigest()


def test_douyin_small_upload_then_create(fake, creds, vertical_clip):
    outcome = run_attempt(job_for("douyin", vertical_clip), douyin(fake), creds, MemoryJournal(), now=NOW)
    assert outcome.status is PostStatus.POSTED, outcome.error
    item = outcome.result.platform_id
    assert fake.videos[fake.items[item]] == hashlib.sha256(vertical_clip.read_bytes()).hexdigest()
    assert fake.item_texts[item] == "新品上市 限时优惠 今天直播间 #好物 #穿搭"
    assert fake.calls["create_video"] == 1


def test_douyin_200mb_file_goes_in_parts(fake, creds, tmp_path):
    video = sparse_file(tmp_path / "big.mp4", 200 * MB)
    journal = MemoryJournal()
    outcome = run_attempt(job_for("douyin", video), douyin(fake), creds, journal, now=NOW)
    assert outcome.status is PostStatus.POSTED, outcome.error
    assert fake.calls["upload_video"] == 0
    assert fake.calls["upload_video_part"] == 13  # 200 MB in 16 MB parts
    assert fake.videos[fake.items[outcome.result.platform_id]] == part_digests(video, 16 * MB)
    assert journal.load("post-1")["parts_done"] == list(range(1, 14))


def test_expired_token_is_refreshed_then_the_post_retried(fake, vertical_clip):
    stale = Credentials(access_token="tok-old", refresh_token="ref-1", access_expires_at=NOW + 3600)
    outcome = run_attempt(
        job_for("douyin", vertical_clip), douyin(fake), stale, MemoryJournal(), refresher=refresher(fake), now=NOW
    )
    assert outcome.status is PostStatus.POSTED, outcome.error
    assert outcome.credentials.access_token == "tok-2"  # the caller stores the new token
    assert fake.calls["refresh_token"] == 1


def test_token_about_to_expire_is_refreshed_before_posting(fake, vertical_clip):
    soon = Credentials(access_token="tok-1", refresh_token="ref-1", access_expires_at=NOW + 60)
    outcome = run_attempt(
        job_for("douyin", vertical_clip), douyin(fake), soon, MemoryJournal(), refresher=refresher(fake), now=NOW
    )
    assert outcome.status is PostStatus.POSTED
    assert outcome.credentials.access_token == "tok-2" and outcome.credentials.access_expires_at > time.time() + 86400


def test_refused_refresh_puts_the_account_to_needs_reauth_and_the_post_waits(fake, vertical_clip):
    revoked = Credentials(access_token="tok-old", refresh_token="ref-revoked")
    outcome = run_attempt(
        job_for("douyin", vertical_clip), douyin(fake), revoked, MemoryJournal(), refresher=refresher(fake), now=NOW
    )
    assert outcome.status is PostStatus.WAITING_REAUTH
    assert outcome.account_status is AccountStatus.NEEDS_REAUTH
    assert "refresh_token expired" in outcome.error.reason
    assert fake.calls["create_video"] == 0


@pytest.mark.parametrize(
    ("code", "status", "kind"),
    [
        (28003018, PostStatus.RETRY_WAIT, ErrorKind.RATE_LIMITED),
        (2190001, PostStatus.RETRY_WAIT, ErrorKind.QUOTA),
        (2100004, PostStatus.RETRY_WAIT, ErrorKind.RETRYABLE),
        (28001007, PostStatus.FAILED, ErrorKind.PERMANENT),  # bad parameters: a spec violation
        (2100009, PostStatus.FAILED, ErrorKind.PERMANENT),  # the user is banned
    ],
)
def test_douyin_error_codes_map_to_the_policy(fake, creds, vertical_clip, code, status, kind):
    fake.fail("create_video", 200, {"data": {"error_code": code, "description": f"code {code}"}, "extra": {}})
    outcome = run_attempt(job_for("douyin", vertical_clip), douyin(fake), creds, MemoryJournal(), now=NOW)
    assert (outcome.status, outcome.error.kind, outcome.error.platform_code) == (status, kind, code)
    assert f"code {code}" in outcome.error.reason
    if kind is ErrorKind.QUOTA:  # the account's next window: tomorrow 08:00 Shanghai
        assert outcome.retry_at > NOW + 3600
    if kind is ErrorKind.RATE_LIMITED:
        assert outcome.retry_at == NOW + 60


def test_after_a_refused_create_the_retry_creates_once(fake, creds, vertical_clip):
    journal = MemoryJournal()
    job = job_for("douyin", vertical_clip)
    fake.fail("create_video", 200, {"data": {"error_code": 2100004, "description": "busy"}})
    first = run_attempt(job, douyin(fake), creds, journal, now=NOW)
    second = run_attempt(job, douyin(fake), creds, journal, now=NOW, attempts=2)
    assert (first.status, second.status) == (PostStatus.RETRY_WAIT, PostStatus.POSTED)
    assert fake.calls["upload_video"] == 1 and len(fake.items) == 1  # the upload was not repeated


def test_malformed_reply_is_a_clear_error(fake, creds, vertical_clip):
    fake.fail("upload_video", 200, b"<html>gateway</html>")
    outcome = run_attempt(job_for("douyin", vertical_clip), douyin(fake), creds, MemoryJournal(), now=NOW)
    assert outcome.status is PostStatus.RETRY_WAIT
    assert "douyin upload_video: malformed JSON reply" in outcome.error.reason


def test_malformed_reply_to_create_is_uncertain_never_repeated(fake, creds, vertical_clip):
    journal = MemoryJournal()
    job = job_for("douyin", vertical_clip)
    fake.fail("create_video", 200, b'{"data": {"item_')
    first = run_attempt(job, douyin(fake), creds, journal, now=NOW)
    again = run_attempt(job, douyin(fake), creds, journal, now=NOW, attempts=2)
    assert first.status is PostStatus.UNCERTAIN and again.status is PostStatus.UNCERTAIN
    assert fake.calls["create_video"] == 1


def test_500_is_retried_with_backoff_then_fails(fake, creds, vertical_clip):
    for _ in range(2):
        fake.fail("upload_video", 500, b"internal")
    job = job_for("douyin", vertical_clip)
    first = run_attempt(job, douyin(fake), creds, MemoryJournal(), now=NOW, attempts=1)
    last = run_attempt(job, douyin(fake), creds, MemoryJournal(), now=NOW, attempts=6)
    assert first.status is PostStatus.RETRY_WAIT and first.retry_at == NOW + 30
    assert last.status is PostStatus.FAILED and "gave up after 6 attempts: douyin upload_video: HTTP 500" in last.reason


def test_unreachable_platform_is_retryable(creds, vertical_clip):
    poster = DouyinPoster(load_rules("douyin"), base_url="http://127.0.0.1:9", timeout_s=2)
    outcome = run_attempt(job_for("douyin", vertical_clip), poster, creds, MemoryJournal(), now=NOW)
    assert outcome.status is PostStatus.RETRY_WAIT and "cannot connect" in outcome.error.reason


def test_douyin_account_without_open_id_is_a_clear_error(fake, creds, vertical_clip):
    job = job_for("douyin", vertical_clip, open_id="")
    outcome = run_attempt(job, douyin(fake), creds, MemoryJournal(), now=NOW)
    assert outcome.status is PostStatus.FAILED and "account.extra.open_id" in outcome.error.reason


def test_douyin_metrics(fake, creds, vertical_clip):
    posted = run_attempt(job_for("douyin", vertical_clip), douyin(fake), creds, MemoryJournal(), now=NOW)
    item = posted.result.platform_id
    metrics = douyin_video_data([item, "@gone"], creds, "open-1", base_url=fake.base)
    assert [(m.platform_id, m.plays, m.likes, m.comments, m.shares) for m in metrics] == [(item, 1000, 10, 0, 0)]
    fake.fail("video_data", 200, b"not json")
    with pytest.raises(PostError, match="video_data: malformed JSON"):
        douyin_video_data([item], creds, "open-1", base_url=fake.base)


def test_kuaishou_fragments_complete_publish(fake, creds, tmp_path):
    video = sparse_file(tmp_path / "ks.mp4", 25 * MB)
    poster = KuaishouPoster(load_rules("kuaishou"), app_id="app-1", base_url=fake.base)
    outcome = run_attempt(job_for("kuaishou", video), poster, creds, MemoryJournal(), now=NOW)
    assert outcome.status is PostStatus.POSTED, outcome.error
    assert fake.calls["fragment"] == 3 and fake.calls["complete"] == 1
    assert fake.photos[outcome.result.platform_id].startswith("新品上市")


def test_kuaishou_small_file_and_expired_token(fake, vertical_clip):
    poster = KuaishouPoster(load_rules("kuaishou"), app_id="app-1", base_url=fake.base)
    outcome = run_attempt(job_for("kuaishou", vertical_clip), poster, Credentials("tok-old"), MemoryJournal(), now=NOW)
    assert outcome.status is PostStatus.WAITING_REAUTH and outcome.error.platform_code == 100200103
    outcome = run_attempt(job_for("kuaishou", vertical_clip), poster, Credentials("tok-1"), MemoryJournal(), now=NOW)
    assert outcome.status is PostStatus.POSTED and fake.calls["upload"] == 1


def test_tiktok_chunks_with_content_range_then_status(fake, creds, tmp_path):
    video = sparse_file(tmp_path / "tt.mp4", 23 * MB)  # 2 chunks of 10 MB, the last takes 13 MB
    poster = TikTokPoster(rules_with("tiktok"), base_url=fake.base, poll_s=0.01)
    outcome = run_attempt(job_for("tiktok", video), poster, creds, MemoryJournal(), now=NOW)
    assert outcome.status is PostStatus.POSTED, outcome.error
    assert fake.calls["tiktok_upload"] == 2 and fake.calls["fetch"] == 2
    assert outcome.result.platform_id.startswith("7")


def test_tiktok_rate_limit_and_ban(fake, creds, vertical_clip):
    poster = TikTokPoster(load_rules("tiktok"), base_url=fake.base, poll_s=0.01)
    fake.fail("init", 429, {"error": {"code": "rate_limit_exceeded", "message": "6 per minute"}})
    limited = run_attempt(job_for("tiktok", vertical_clip), poster, creds, MemoryJournal(), now=NOW)
    assert limited.status is PostStatus.RETRY_WAIT and limited.error.kind is ErrorKind.RATE_LIMITED
    fake.fail("init", 403, {"error": {"code": "spam_risk_user_banned_from_posting", "message": "banned"}})
    banned = run_attempt(job_for("tiktok", vertical_clip), poster, creds, MemoryJournal(), now=NOW)
    assert banned.status is PostStatus.FAILED and "spam_risk_user_banned_from_posting" in banned.error.reason


def test_youtube_resumable_upload_and_resume(fake, creds, tmp_path):
    video = sparse_file(tmp_path / "yt.mp4", 3 * MB + 1000)
    poster = YouTubePoster(rules_with("youtube", chunk_kib=1024), base_url=fake.base)
    journal = MemoryJournal()
    fake.fail("youtube_upload", 503, b"backend error")  # the first chunk fails once
    first = run_attempt(job_for("youtube", video), poster, creds, journal, now=NOW)
    assert first.status is PostStatus.RETRY_WAIT and journal.load("post-1")["session_url"]
    second = run_attempt(job_for("youtube", video), poster, creds, journal, now=NOW, attempts=2)
    assert second.status is PostStatus.POSTED, second.error
    assert fake.calls["videos"] == 1  # one session, resumed
    assert list(fake.yt_videos) == [second.result.platform_id]
    assert fake.yt_videos[second.result.platform_id]["snippet"]["tags"] == ["好物", "穿搭"]


def test_youtube_quota(fake, creds, vertical_clip):
    fake.fail("videos", 403, {"error": {"code": 403, "errors": [{"reason": "quotaExceeded"}]}})
    poster = YouTubePoster(load_rules("youtube"), base_url=fake.base)
    outcome = run_attempt(job_for("youtube", vertical_clip), poster, creds, MemoryJournal(), now=NOW)
    assert outcome.status is PostStatus.RETRY_WAIT and outcome.error.kind is ErrorKind.QUOTA


def test_webhook_is_signed_with_the_post_id_as_idempotency_key(fake, vertical_clip):
    poster = WebhookPoster(secret=b"s3cret")
    job = job_for("webhook", vertical_clip, url=f"{fake.base}/hook")
    outcome = run_attempt(job, poster, Credentials(""), MemoryJournal(), now=NOW)
    assert outcome.status is PostStatus.POSTED and outcome.result.platform_id == "cms-1"
    headers, body = fake.hooks[0]
    assert headers["idempotency-key"] == "post-1"
    assert headers["x-livecut-signature"] == sign(b"s3cret", body)
    assert json.loads(body)["post"]["title"] == "新品上市 限时优惠"
    fake.fail("hook", 502, b"bad gateway")
    assert run_attempt(job, poster, Credentials(""), MemoryJournal(), now=NOW).status is PostStatus.RETRY_WAIT


def test_handoff_package_then_operator_marks_posted(tmp_path, vertical_clip):
    poster = HandoffPoster(tmp_path / "queue")
    job = job_for("xiaohongshu", vertical_clip)
    job = job.__class__(**{**job.__dict__, "product_url": "https://item.example/123"})
    outcome = run_attempt(job, poster, Credentials(""), MemoryJournal(), now=NOW)
    assert outcome.status is PostStatus.HANDED_OFF
    folder = Path(outcome.result.detail["package"])
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "ready" and manifest["product_url"] == "https://item.example/123"
    assert (folder / "cover.jpg").stat().st_size > 0 and (folder / "tags.txt").read_text(
        encoding="utf-8"
    ) == "#好物\n#穿搭\n"
    assert manifest["files"]["video.mp4"] == hashlib.sha256(vertical_clip.read_bytes()).hexdigest()
    poster.mark_posted(job, platform_url="https://www.xiaohongshu.com/explore/abc")
    again = run_attempt(job, poster, Credentials(""), MemoryJournal(), now=NOW)
    assert again.status is PostStatus.POSTED and again.result.url.endswith("/abc")


def test_poster_for_builds_each_protocol_and_refuses_unknown(tmp_path, fake):
    assert isinstance(poster_for(load_rules("douyin"), {"base_url": fake.base}), DouyinPoster)
    assert isinstance(poster_for(load_rules("jd"), {"queue_dir": str(tmp_path)}), HandoffPoster)
    with pytest.raises(ValueError, match="queue_dir"):
        poster_for(load_rules("taobao"), {})
    with pytest.raises(ValueError, match="kuaishou app_id"):
        poster_for(load_rules("kuaishou"), {})
    with pytest.raises(ValueError, match="unknown platform 'weibo'"):
        load_rules("weibo")


def test_other_tenants_account_is_not_found():
    from distribution import account_of_tenant

    accounts = {"acc-douyin": account("douyin")}
    assert account_of_tenant(accounts, "acc-douyin", "tenant-a").platform == "douyin"
    with pytest.raises(KeyError):
        account_of_tenant(accounts, "acc-douyin", "tenant-b")
