"""The sample `livecut serve --demo` publishes: the committed Mandarin fixture, shipped in the package."""

from pathlib import Path

DEMO_SAMPLE = Path(__file__).resolve().parent / "zh_live.mp4"
