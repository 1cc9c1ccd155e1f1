"""The API process's one detail-page renderer: catalog.detail.DetailRenderer on a thread of its own.

playwright's sync API belongs to the thread that started it and a chromium costs about a second to
launch, so one renderer lives on one dedicated worker thread, made on the first render (an API that
never renders a detail page never starts a browser) and closed with the server. Renders queue on
that thread one after another. Importing this module loads neither playwright nor the catalog.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the catalog loads OpenCV: only types here
    from catalog.detail import DetailPlan, DetailSettings, RenderResult
    from catalog.platforms import PlatformProfile


class DetailRenderWorker:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._renderer: Any = None  # touched only on the worker thread

    async def render(
        self,
        plan: DetailPlan,
        profile: PlatformProfile,
        out_dir: Path,
        settings: DetailSettings,
        page_keys: list[str] | None = None,
    ) -> RenderResult:
        """The plan (or only page_keys) rendered into out_dir, on the worker thread."""
        future = self._pool().submit(self._render, plan, profile, out_dir, settings, page_keys)
        return await asyncio.wrap_future(future)

    def close(self) -> None:
        """Close the browser and end the thread (the server's shutdown); a later render starts them again."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.submit(self._close_renderer).result()
            executor.shutdown(wait=True)

    @property
    def started(self) -> bool:
        return self._renderer is not None

    def _pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="detail-render")
            return self._executor

    def _render(
        self,
        plan: DetailPlan,
        profile: PlatformProfile,
        out_dir: Path,
        settings: DetailSettings,
        page_keys: list[str] | None,
    ) -> RenderResult:
        if self._renderer is None:
            from catalog.detail import DetailRenderer

            renderer = DetailRenderer(settings)
            renderer.__enter__()
            self._renderer = renderer
        try:
            return self._renderer.render(plan, profile, out_dir, page_keys, settings)
        except Exception as exc:
            from catalog import CatalogError

            if not isinstance(exc, CatalogError):
                # The browser may have died: the next render starts a new one.
                self._close_renderer()
            raise

    def _close_renderer(self) -> None:
        renderer, self._renderer = self._renderer, None
        if renderer is not None:
            # A browser that died cannot be closed; nothing is left to free then.
            with contextlib.suppress(Exception):
                renderer.__exit__(None, None, None)
