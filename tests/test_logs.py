"""Logging: JSON lines carry room and clip ids from extra= and from log_context; text stays as it was."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from datetime import UTC, datetime

import pytest

from livecut.config import ConfigError, load_config
from livecut.observability.logs import configure_from_config, configure_logging, log_context


@pytest.fixture
def restore_root_logger():
    """configure_logging changes the root logger: put its handlers and level back after each test."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)
    root.setLevel(level)


def json_lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_carry_the_standard_fields(restore_root_logger):
    out = io.StringIO()
    configure_logging("INFO", json_format=True, stream=out)
    before = datetime.now(UTC)
    logging.getLogger("livecut.live").info("rendered %d clips", 2)
    logging.getLogger("livecut.live").debug("below the level")
    (line,) = json_lines(out)
    assert set(line) == {"ts", "level", "logger", "message"}
    assert (line["level"], line["logger"], line["message"]) == ("INFO", "livecut.live", "rendered 2 clips")
    ts = datetime.fromisoformat(line["ts"])
    assert ts.utcoffset().total_seconds() == 0
    assert abs((ts - before).total_seconds()) < 5


def test_ids_come_from_extra_and_from_log_context(restore_root_logger):
    out = io.StringIO()
    configure_logging("DEBUG", json_format=True, stream=out)
    log = logging.getLogger("livecut.test")
    log.info("direct", extra={"room": "r1", "clip": "c1", "worker": "w-7"})
    with log_context(room="r2", role="transcribe"):
        log.info("in context")
        with log_context(clip="c2"):
            log.info("nested")
        log.info("given", extra={"room": "r3"})
    log.info("after")
    lines = json_lines(out)
    ids = [{k: v for k, v in line.items() if k in ("room", "clip", "worker", "role", "topic")} for line in lines]
    assert ids == [
        {"room": "r1", "clip": "c1", "worker": "w-7"},
        {"room": "r2", "role": "transcribe"},
        {"room": "r2", "role": "transcribe", "clip": "c2"},
        {"room": "r3", "role": "transcribe"},
        {},
    ]


def test_log_context_follows_asyncio_tasks(restore_root_logger):
    out = io.StringIO()
    configure_logging("INFO", json_format=True, stream=out)

    async def handle(room: str) -> None:
        with log_context(room=room):
            await asyncio.sleep(0.01)
            logging.getLogger("livecut.test").info("handled")

    async def main() -> None:
        await asyncio.gather(handle("a"), handle("b"))

    asyncio.run(main())
    assert sorted(line["room"] for line in json_lines(out)) == ["a", "b"]


def test_process_ids_reach_every_record_even_in_executor_threads(restore_root_logger):
    out = io.StringIO()
    configure_logging("INFO", json_format=True, stream=out, worker="node-3", role="render")

    def in_thread() -> None:
        logging.getLogger("livecut.live").info("rendering")

    async def main() -> None:
        with log_context(room="r1", role="transcribe"):
            await asyncio.get_running_loop().run_in_executor(None, in_thread)
            logging.getLogger("livecut.live").info("on the loop")

    asyncio.run(main())
    ids = [(line.get("worker"), line.get("role"), line.get("room")) for line in json_lines(out)]
    # The executor thread does not inherit log_context; the process's ids it does get.
    assert ids == [("node-3", "render", None), ("node-3", "transcribe", "r1")]


def test_exceptions_are_one_string_field_on_one_line(restore_root_logger):
    out = io.StringIO()
    configure_logging("INFO", json_format=True, stream=out)
    try:
        raise ValueError("bad fragment 这件")
    except ValueError:
        logging.getLogger("livecut.live").exception("transcription failed", extra={"room": "r1"})
    assert len(out.getvalue().splitlines()) == 1
    (line,) = json_lines(out)
    assert line["level"] == "ERROR" and line["room"] == "r1"
    assert line["exc_info"].startswith("Traceback (most recent call last):")
    assert line["exc_info"].endswith("ValueError: bad fragment 这件")


def test_text_format_is_unchanged_and_reconfiguring_replaces_the_handler(restore_root_logger):
    first, second = io.StringIO(), io.StringIO()
    configure_logging("INFO", json_format=True, stream=first)
    configure_logging("WARNING", json_format=False, stream=second)
    with log_context(room="r1"):
        logging.getLogger("livecut.rooms").warning("room %s: source unavailable", "r1")
    logging.getLogger("livecut.rooms").info("below the level")
    assert first.getvalue() == ""
    assert second.getvalue() == "WARNING livecut.rooms: room r1: source unavailable\n"


def test_configure_from_the_logging_section(restore_root_logger, tmp_path):
    user = tmp_path / "logs.toml"
    user.write_text('[logging]\nformat = "json"\nlevel = "warning"\n')
    out = io.StringIO()
    configure_from_config(load_config(user), stream=out)
    logging.getLogger("livecut.x").info("quiet")
    logging.getLogger("livecut.x").warning("loud")
    assert [line["message"] for line in json_lines(out)] == ["loud"]
    defaults = load_config()["logging"]
    assert (defaults["format"], defaults["level"]) == ("text", "WARNING")


@pytest.mark.parametrize(
    ("section", "error"),
    [({"format": "xml", "level": "INFO"}, "logging.format"), ({"format": "text", "level": "LOUD"}, "logging.level")],
)
def test_bad_logging_settings_are_config_errors(restore_root_logger, section, error):
    with pytest.raises(ConfigError, match=error):
        configure_from_config({"logging": section})
