"""catalog.detail: detail pages (详情页) from templates as data, filled slot by slot, rendered as long images.

Depends on catalog.* and livecut.contracts only. Flow: plan_detail (fill the slots from the product's
confirmed attributes and images; optionally an LLM writes one text slot at a time) -> a person edits
(edit_slot, choose_image, remove_page, move_page) -> DetailRenderer.render per platform (JPEG slices
and a preview PNG) -> BrandMemory.learn(plan) so the brand's next page starts from what it kept.
"""

from catalog.detail.checks import invented_claims, shorten, text_problems
from catalog.detail.fill import choose_image, edit_slot, move_page, plan_detail, remove_page
from catalog.detail.learn import BrandMemory
from catalog.detail.llm import ChatClient, ChatError
from catalog.detail.plan import DetailPlan, PagePlan, SlotFill
from catalog.detail.render import DetailRenderer, DetailSlice, RenderResult, detail_rule, pack_slices, render_detail
from catalog.detail.settings import DetailSettings, LlmSettings
from catalog.detail.templates import PageTemplate, Slot, TemplateSet, load_template_sets

__all__ = [
    "BrandMemory",
    "ChatClient",
    "ChatError",
    "DetailPlan",
    "DetailRenderer",
    "DetailSettings",
    "DetailSlice",
    "LlmSettings",
    "PagePlan",
    "PageTemplate",
    "RenderResult",
    "Slot",
    "SlotFill",
    "TemplateSet",
    "choose_image",
    "detail_rule",
    "edit_slot",
    "invented_claims",
    "load_template_sets",
    "move_page",
    "pack_slices",
    "plan_detail",
    "remove_page",
    "render_detail",
    "shorten",
    "text_problems",
]
