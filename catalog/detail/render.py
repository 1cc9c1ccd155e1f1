"""Rendering a plan into the platform's detail images with Debian's chromium through playwright.

The pages are laid out at the set's design width (750 CSS px) and captured at the platform's width
(the device scale factor makes up the difference). The page is captured in slices no taller than the
platform allows, cut between pages where a page fits, by scrolling the viewport to each slice: never
one full-page capture, which Chromium repeats or clips past about 16,000 px. Each slice is a JPEG
under the platform's byte cap; a preview PNG stitches them at a small width.
"""

from __future__ import annotations

import io
import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from PIL import Image

from catalog.detail.html import document
from catalog.detail.plan import DetailPlan
from catalog.detail.settings import DetailSettings
from catalog.detail.templates import TemplateSet, load_template_sets
from catalog.errors import CatalogError
from catalog.export_images import encode_jpeg
from catalog.platforms import PlatformProfile

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking")
LOAD_TIMEOUT_MS = 30_000

_MEASURE_JS = """() => [...document.querySelectorAll('section[data-page]')].map(e => {
  const r = e.getBoundingClientRect();
  return [e.dataset.page, r.top + window.scrollY, r.height];
})"""


@dataclass
class DetailSlice:
    file: str  # relative to the output folder
    width: int
    height: int
    bytes: int
    quality: int
    pages: list[str]  # the pages (or parts of them) this slice shows


@dataclass
class RenderResult:
    platform: str
    width: int
    max_height: int
    max_bytes: int
    slices: list[DetailSlice] = field(default_factory=list)
    preview: str = ""
    html: str = ""
    pages: dict[str, list[int]] = field(default_factory=dict)  # page -> [top, height] in output pixels
    violations: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.violations

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


def detail_rule(profile: PlatformProfile) -> tuple[int, int, int]:
    """(width, max_height, max_bytes) of the platform's detail images."""
    spec = profile.images.get("detail")
    if not spec:
        raise CatalogError(f"{profile.key}: images.detail", f"{profile.name}'s profile has no detail-image rule")
    width, max_height, max_bytes = spec.get("width"), spec.get("max_height", 1500), spec.get("max_bytes")
    if not all(isinstance(v, int) and v > 0 for v in (width, max_height, max_bytes)):
        raise CatalogError(f"{profile.key}: images.detail", "needs width, max_height and max_bytes (positive integers)")
    return width, max_height, max_bytes


def pack_slices(
    pages: list[tuple[str, float, float]], total: float, max_height: int
) -> list[tuple[int, int, list[str]]]:
    """Slices (top, height, pages) covering [0, total) CSS px, each at most max_height. A slice ends at a
    page boundary when one lies in its lower half (a page re-rendered alone then matches), else at
    max_height: slices show stacked, so a cut inside a page does not show."""
    spans = [(key, round(top), round(top + height)) for key, top, height in pages]
    end = round(total)
    bounds = sorted({b for _, _, b in spans})
    slices = []
    top = 0
    while top < end:
        reach = min(top + max_height, end)
        cuts = [b for b in bounds if top + max_height / 2 <= b <= reach]
        bottom = reach if reach == end or not cuts else cuts[-1]
        slices.append((top, bottom - top, [key for key, a, b in spans if a < bottom and b > top]))
        top = bottom
    return slices


class DetailRenderer:
    """One browser for many renders (the shell keeps one; a test or the CLI opens one per call).

    Uses playwright's sync API: call it from a worker thread, not inside an asyncio event loop."""

    def __init__(self, settings: DetailSettings | None = None, chromium: str = CHROMIUM) -> None:
        self.settings = settings or DetailSettings()
        self.chromium = chromium
        self._playwright: Any = None
        self._browser: Any = None
        # One page per device scale factor, reused across renders (a new context costs ~0.5 s).
        self._pages: dict[float, Any] = {}

    def __enter__(self) -> DetailRenderer:
        from playwright.sync_api import sync_playwright

        if not Path(self.chromium).is_file():
            raise CatalogError("detail.chromium", f"{self.chromium} is missing (Debian's chromium package)")
        self._playwright = sync_playwright().start()
        try:
            self._browser = self._playwright.chromium.launch(executable_path=self.chromium, args=list(CHROMIUM_ARGS))
        except Exception:
            self._playwright.stop()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self._pages.clear()
        if self._browser is not None:
            self._browser.close()
        if self._playwright is not None:
            self._playwright.stop()
        self._browser = self._playwright = None

    def render(
        self,
        plan: DetailPlan,
        profile: PlatformProfile,
        out_dir: str | Path,
        page_keys: list[str] | None = None,
        settings: DetailSettings | None = None,
    ) -> RenderResult:
        """Slices of the whole plan, or of only page_keys (a page re-rendered after an edit).
        settings: this render's (its template folders), default the renderer's."""
        if self._browser is None:
            raise RuntimeError("use DetailRenderer as a context manager (with DetailRenderer() as renderer: ...)")
        settings = settings or self.settings
        started = time.perf_counter()
        width, max_height, max_bytes = detail_rule(profile)
        tset = _template_set(plan, settings)
        if page_keys is not None:
            unknown = [k for k in page_keys if k not in {p.key for p in plan.pages}]
            if unknown:
                raise CatalogError("pages", f"not in the plan: {', '.join(unknown)}")
        if not plan.pages or page_keys == []:
            raise CatalogError("pages", "the plan has no pages to render")
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        prefix = "detail" if page_keys is None else "page_" + "_".join(page_keys)
        html_path = out / f"{prefix}.html"
        html_path.write_text(document(plan, tset, page_keys), encoding="utf-8")
        result = RenderResult(profile.key, width, max_height, max_bytes, html=html_path.name)
        scale = width / tset.design_width
        max_css = math.floor(max_height / scale)
        page = self._page(scale, tset.design_width, max_css)
        page.goto(html_path.resolve().as_uri(), wait_until="load", timeout=LOAD_TIMEOUT_MS)
        page.evaluate("() => document.fonts.ready.then(() => true)")
        sections = [(k, float(t), float(h)) for k, t, h in page.evaluate(_MEASURE_JS)]
        total = max(t + h for _, t, h in sections)
        # Room below the last page, so the viewport can scroll to the last slice's top.
        page.evaluate(
            f"() => document.body.insertAdjacentHTML('beforeend', '<div style=\"height:{max_css}px\"></div>')"
        )
        result.pages = {k: [round(t * scale), round(h * scale)] for k, t, h in sections}
        for i, (top, height, shown) in enumerate(pack_slices(sections, total, max_css), 1):
            data = _capture(page, top, height, tset.design_width, settings.jpeg_quality)
            self._write_slice(out, f"{prefix}_{i:02d}.jpg", data, shown, result, settings.jpeg_quality)
        max_count = profile.images["detail"].get("max_count")
        if isinstance(max_count, int) and len(result.slices) > max_count and page_keys is None:
            result.violations.append(
                f"{len(result.slices)} slices, over the {max_count} detail images {profile.name} takes: remove pages"
            )
        if result.slices:
            result.preview = self._preview(out, f"{prefix}_preview.png", result, settings.preview_width)
        result.seconds = round(time.perf_counter() - started, 3)
        (out / f"{prefix}.json").write_text(
            json.dumps(result.to_json(), ensure_ascii=False, indent=2), encoding="utf-8"
        )
        return result

    def _page(self, scale: float, width: int, height: int) -> Any:
        page = self._pages.get(scale)
        if page is None or page.is_closed():
            context = self._browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=scale)
            page = self._pages[scale] = context.new_page()
        elif page.viewport_size != {"width": width, "height": height}:
            page.set_viewport_size({"width": width, "height": height})
        return page

    def _write_slice(
        self, out: Path, name: str, data: bytes, shown: list[str], result: RenderResult, quality: int
    ) -> None:
        image = Image.open(io.BytesIO(data))
        if len(data) > result.max_bytes:
            encoded = encode_jpeg(image.convert("RGB"), result.max_bytes, quality - 10)
            if encoded is None:
                result.violations.append(f"{name}: stays over {result.max_bytes} bytes even at the lowest quality")
                return
            data, quality = encoded
        if image.width != result.width or image.height > result.max_height:
            result.violations.append(
                f"{name}: {image.width}x{image.height}, the platform wants {result.width} wide and at most "
                f"{result.max_height} tall"
            )
        (out / name).write_bytes(data)
        result.slices.append(DetailSlice(name, image.width, image.height, len(data), quality, shown))

    def _preview(self, out: Path, name: str, result: RenderResult, width: int) -> str:
        pieces = []
        for piece in result.slices:
            with Image.open(out / piece.file) as image:
                image.draft("RGB", (width, max(1, piece.height * width // piece.width)))
                height = max(1, round(piece.height * width / piece.width))
                pieces.append(image.convert("RGB").resize((width, height), Image.Resampling.BILINEAR))
        canvas = Image.new("RGB", (width, sum(p.height for p in pieces)), "white")
        top = 0
        for piece in pieces:
            canvas.paste(piece, (0, top))
            top += piece.height
        canvas.save(out / name, "PNG", compress_level=1)
        return name


def render_detail(
    plan: DetailPlan,
    profile: PlatformProfile,
    out_dir: str | Path,
    settings: DetailSettings | None = None,
    page_keys: list[str] | None = None,
) -> RenderResult:
    """One render with its own browser (the shell keeps a DetailRenderer open instead)."""
    with DetailRenderer(settings) as renderer:
        return renderer.render(plan, profile, out_dir, page_keys)


def _capture(page: Any, top: int, height: int, width: int, quality: int) -> bytes:
    scrolled = page.evaluate(f"() => {{ window.scrollTo(0, {top}); return window.scrollY; }}")
    if round(scrolled) != top:
        raise CatalogError("detail.render", f"the page scrolled to {scrolled}, not {top}: cannot capture the slice")
    clip = {"x": 0, "y": 0, "width": width, "height": height}
    return page.screenshot(type="jpeg", quality=quality, clip=clip, animations="disabled", caret="hide")


def _template_set(plan: DetailPlan, settings: DetailSettings) -> TemplateSet:
    sets = load_template_sets(settings.template_dirs)
    if plan.template_set not in sets:
        raise CatalogError("template_set", f"{plan.template_set!r} is not a known template set")
    return sets[plan.template_set]
