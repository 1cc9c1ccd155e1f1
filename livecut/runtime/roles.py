"""The worker roles and the stages each one runs on the StageRunner.

`api` (HTTP and the web page) and `ingest` (RTMP endpoint, pulls, leases) are long-lived
services of their own; every other role is a list of stages. A new stage (catalog,
distribution, remix) is a class with `name`, `topic`, `policy`, `handle` and `give_up`, and
one entry here.
"""

from __future__ import annotations

from collections.abc import Callable

from livecut.runtime.runner import Stage
from livecut.runtime.services import LiveServices

StageFactory = Callable[[LiveServices], list[Stage]]


def _transcribe(services: LiveServices) -> list[Stage]:
    from livecut.runtime.stages.transcribe import TranscribeStage

    return [TranscribeStage(services)]


def _render(services: LiveServices) -> list[Stage]:
    from livecut.runtime.stages.render import RenderStage

    return [RenderStage(services)]


def _publish(services: LiveServices) -> list[Stage]:
    from livecut.runtime.stages.publish import PublishStage, publish_settings

    return [PublishStage(publish_settings(services.config))]


def _post(services: LiveServices) -> list[Stage]:
    from livecut.runtime.stages.post import post_stage

    return [post_stage(services)]


# Imports stay inside the factories: a process loads only the code of the roles it runs.
STAGE_ROLES: dict[str, StageFactory] = {
    "transcribe": _transcribe,
    "render": _render,
    "publish": _publish,
    "post": _post,
}
SERVICE_ROLES = ("api", "ingest")
ROLES = (*SERVICE_ROLES, *STAGE_ROLES)
# Roles whose stages need the speech models loaded in the process.
MODEL_ROLES = ("transcribe",)
