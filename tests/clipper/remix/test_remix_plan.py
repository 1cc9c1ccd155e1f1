"""plan(): hooks, sublabels, distinctness by the per-second hash measure, determinism, what cannot be made."""

from __future__ import annotations

from itertools import combinations

import pytest
from remix_helpers import FIXTURES, PRODUCT, SHOTS_VIDEO, TEST_PLAN, utterances

from clipper.remix import PlanOptions, RemixError, analyze, plan, shared_fraction


def test_ten_variants_follow_the_recipe(footage, image_footage):
    result = plan([footage, image_footage], TEST_PLAN)
    assert len(result.variants) == 10, result.messages
    hooks = [v.pieces[0].key for v in result.variants]
    assert len(set(hooks)) == 10, "two variants share a hook"
    for variant in result.variants:
        assert variant.roles[0] == "hook" and variant.pieces[0].label in ("price_promo", "selling_point")
        low, high = TEST_PLAN.duration
        assert low <= variant.duration <= high
        bodies = {p.sublabel for p, role in zip(variant.pieces, variant.roles, strict=True) if role == "body"}
        assert 2 <= len(bodies) <= 4
        assert all(
            p.label == "selling_point" for p, r in zip(variant.pieces, variant.roles, strict=True) if r == "body"
        )
    for a, b in combinations(result.variants, 2):
        assert shared_fraction(a.hashes, b.hashes) <= TEST_PLAN.max_shared


def test_same_seed_same_plan_other_seed_other_plan(footage, image_footage):
    first = [v.variant_id for v in plan([footage, image_footage], TEST_PLAN).variants]
    again = [v.variant_id for v in plan([footage, image_footage], TEST_PLAN).variants]
    other = [
        v.variant_id for v in plan([footage, image_footage], PlanOptions(**{**TEST_PLAN.__dict__, "seed": 4})).variants
    ]
    assert first == again
    assert first != other


def test_more_variants_than_possible_makes_as_many_as_it_can_and_says_why(footage):
    result = plan([footage], PlanOptions(variants=40, duration=(12.0, 20.0), seed=3))
    made = len(result.variants)
    assert 0 < made < 40
    assert any(f"made {made} of 40 variants" in m and "possible hooks" in m for m in result.messages)
    for a, b in combinations(result.variants, 2):
        assert shared_fraction(a.hashes, b.hashes) <= 0.5


def test_no_selling_points_gives_a_clear_message_and_no_variants():
    chitchat_only = analyze(SHOTS_VIDEO, utterances(labels=False), PRODUCT)
    result = plan([chitchat_only], PlanOptions(variants=3, product=PRODUCT))
    assert result.variants == []
    assert result.messages == [f"no selling points found for {PRODUCT}: no variants made"]


def test_footage_without_audio_gives_no_selling_points():
    silent = analyze(FIXTURES / "no_audio.mp4", utterances(), PRODUCT)
    result = plan([silent], PlanOptions(variants=2))
    assert result.variants == [] and "no selling points" in result.messages[0]


@pytest.mark.parametrize(
    ("field", "value"),
    [("duration", (30.0, 10.0)), ("variants", 0), ("max_shared", 1.5), ("bodies", (3, 2))],
)
def test_bad_options_name_the_field(field, value):
    with pytest.raises(RemixError, match=field):
        PlanOptions(**{field: value})
