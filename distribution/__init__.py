"""Distribution: accounts, platform rules, pre-flight, scheduler, posters, post tracking and metrics.

Imports from the shell only `livecut.contracts` (today: nothing at all) and no other domain package.
The shell stores accounts, encrypted credentials, plans, posts, attempts, journals and metrics, and
calls these entry points; see each module's docstring.
"""

from distribution.accounts import Account, AccountStatus, Window, account_from_record, account_of_tenant, parse_window
from distribution.attempt import AttemptOutcome, prepare, run_attempt
from distribution.credentials import Credentials, CredentialVault, TokenRefresher, ensure_fresh
from distribution.dedupe import (
    DuplicateMatch,
    Fingerprint,
    PostedVideo,
    find_duplicates,
    fingerprint,
    refuse_duplicates,
    similarity,
)
from distribution.errors import ErrorKind, PostError
from distribution.journal import FileJournal, MemoryJournal, PostJournal
from distribution.metrics import VideoMetrics, douyin_video_data
from distribution.oauth import AppCredentials, OAuthRefresher
from distribution.posters import (
    DouyinPoster,
    HandoffPoster,
    KuaishouPoster,
    TikTokPoster,
    WebhookPoster,
    YouTubePoster,
    poster_for,
)
from distribution.posting import DONE_POST_STATUSES, Poster, PostJob, PostResult, PostStatus
from distribution.preflight import Caption, Violation, conform, preflight, probe
from distribution.retry import NextStep, RetryPolicy, next_step, next_window_start
from distribution.rules import PlatformRules, count_text, known_platforms, load_rules
from distribution.scheduler import (
    ClipToPlan,
    PlannedPost,
    PlanStatus,
    SchedulerSettings,
    cancel,
    move,
    pause_account,
    plan_day,
    plan_violations,
    post_id_for,
    resume_account,
)

__all__ = [
    "DONE_POST_STATUSES",
    "Account",
    "AccountStatus",
    "AppCredentials",
    "AttemptOutcome",
    "Caption",
    "ClipToPlan",
    "CredentialVault",
    "Credentials",
    "DouyinPoster",
    "DuplicateMatch",
    "ErrorKind",
    "FileJournal",
    "Fingerprint",
    "HandoffPoster",
    "KuaishouPoster",
    "MemoryJournal",
    "NextStep",
    "OAuthRefresher",
    "PlanStatus",
    "PlannedPost",
    "PlatformRules",
    "PostError",
    "PostJob",
    "PostJournal",
    "PostResult",
    "PostStatus",
    "PostedVideo",
    "Poster",
    "RetryPolicy",
    "SchedulerSettings",
    "TikTokPoster",
    "TokenRefresher",
    "VideoMetrics",
    "Violation",
    "WebhookPoster",
    "Window",
    "YouTubePoster",
    "account_from_record",
    "account_of_tenant",
    "cancel",
    "conform",
    "count_text",
    "douyin_video_data",
    "ensure_fresh",
    "find_duplicates",
    "fingerprint",
    "known_platforms",
    "load_rules",
    "move",
    "next_step",
    "next_window_start",
    "parse_window",
    "pause_account",
    "plan_day",
    "plan_violations",
    "post_id_for",
    "poster_for",
    "prepare",
    "preflight",
    "probe",
    "refuse_duplicates",
    "resume_account",
    "run_attempt",
    "similarity",
]
