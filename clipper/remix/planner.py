"""plan(): choose many variants per product that really differ in content.

A variant is a hook (the strongest price or selling-point line, at most `hook_max` seconds), then
optionally one shot without speech (b-roll: a product image or a shot of a file without audio),
then two to four selling-point sentences of different sublabels, then optionally a call to action,
its length within `duration`. No two variants share a hook, and no two share more than
`max_shared` of their seconds by per-second frame hashes (signature.shared_fraction). The same
footage, options and seed always give the same plan.
"""

from __future__ import annotations

import hashlib
import random
from collections import defaultdict
from dataclasses import dataclass, field

from clipper.remix.errors import RemixError
from clipper.remix.footage import Footage, Segment
from clipper.remix.signature import MATCH_DISTANCE, shared_fraction

HOOK_LABELS = ("price_promo", "selling_point")


@dataclass(frozen=True)
class PlanOptions:
    variants: int = 10
    duration: tuple[float, float] = (15.0, 60.0)
    product: str | None = None  # None: a set of variants per product found in the footage
    seed: int = 0
    max_shared: float = 0.5
    hook_max: float = 6.0
    bodies: tuple[int, int] = (2, 4)
    cta: bool = True  # a call to action ends about half of the variants
    broll: bool = True
    tries: int = 60  # random draws per hook before the hook is given up
    # Planning compares source frames; the written variants are reframed and captioned. A wider distance here
    # plans more conservatively; assembly checks the written frames at MATCH_DISTANCE and uses spares if needed.
    plan_match_distance: int = MATCH_DISTANCE
    spares: int = 5  # extra variants per product, for assembly to use when a written one turns out too similar

    def __post_init__(self) -> None:
        low, high = self.duration
        if not 0 < low <= high:
            raise RemixError(f"duration must be MIN-MAX seconds with 0 < MIN <= MAX, not {self.duration}")
        if self.variants < 1:
            raise RemixError(f"variants must be at least 1, not {self.variants}")
        if not 0.0 <= self.max_shared <= 1.0:
            raise RemixError(f"max_shared is a share in [0, 1], not {self.max_shared}")
        if not 1 <= self.bodies[0] <= self.bodies[1]:
            raise RemixError(f"bodies must be MIN-MAX selling-point segments with 1 <= MIN <= MAX, not {self.bodies}")


@dataclass
class PlannedVariant:
    variant_id: str
    product: str | None
    title: str | None
    pieces: list[Segment]
    roles: list[str]  # hook | broll | body | cta, one per piece

    @property
    def duration(self) -> float:
        return sum(p.duration for p in self.pieces)

    @property
    def hashes(self) -> list[str]:
        return [h for p in self.pieces for h in p.hashes]


@dataclass
class PlanResult:
    variants: list[PlannedVariant] = field(default_factory=list)
    asked: int = 0
    max_shared: float = 0.5
    spares: list[PlannedVariant] = field(default_factory=list)  # in order of preference
    messages: list[str] = field(default_factory=list)  # why fewer variants than asked, what was skipped


@dataclass
class _Pool:
    hooks: list[Segment]
    bodies: dict[str, list[Segment]]
    ctas: list[Segment]
    broll: list[Segment]


def plan(footage: list[Footage], options: PlanOptions | None = None) -> PlanResult:
    """Variants for `options.product`, or for every product the footage is about (None: the footage as a whole)."""
    options = options or PlanOptions()
    products = [options.product] if options.product else sorted({f.product for f in footage if f.product}) or [None]
    result = PlanResult(asked=options.variants * len(products), max_shared=options.max_shared)
    for product in products:
        part = _plan_product(footage, product, options)
        result.variants.extend(part.variants[: options.variants])
        result.spares.extend(part.variants[options.variants :])
        result.messages.extend(part.messages)
    return result


def _plan_product(footage: list[Footage], product: str | None, options: PlanOptions) -> PlanResult:
    name = product or "the footage"
    pool = _pool(footage, product, options)
    result = PlanResult(asked=options.variants)
    if not pool.bodies:
        result.messages.append(f"no selling points found for {name}: no variants made")
        return result
    title = next((f.title for f in footage if f.title and f.product == product), None) or product
    rng = random.Random(f"{options.seed}|{product}")
    unused = list(pool.hooks)
    while len(result.variants) < options.variants + options.spares and unused:
        hook = unused.pop(_pick_index(rng, len(unused)))
        variant = _variant_for(hook, pool, result.variants, options, rng)
        if variant is not None:
            pieces, roles = variant
            result.variants.append(
                PlannedVariant(_variant_id(product, pieces, options.seed), product, title, pieces, roles)
            )
    made = min(options.variants, len(result.variants))
    if made < options.variants:
        result.messages.append(
            f"made {made} of {options.variants} variants for {name}: {len(pool.hooks)} possible hooks "
            f"(price or selling-point lines of at most {options.hook_max:g} s), and every other combination "
            f"shares more than {options.max_shared:.0%} of its seconds with a variant already made "
            f"or falls outside {options.duration[0]:g}-{options.duration[1]:g} s"
        )
    return result


def _pool(footage: list[Footage], product: str | None, options: PlanOptions) -> _Pool:
    segments = [s for f in footage for s in f.segments_of(product)]
    speech = [s for s in segments if s.kind == "speech"]
    hooks = [s for s in speech if s.label in HOOK_LABELS and s.duration <= options.hook_max]
    hooks.sort(key=lambda s: (-(s.quality.score + (0.3 if s.label == "price_promo" else 0.0)), s.source, s.t0))
    bodies: dict[str, list[Segment]] = defaultdict(list)
    for s in speech:
        if s.label == "selling_point":
            bodies[s.sublabel or "general"].append(s)
    ctas = [s for s in speech if s.label == "call_to_action"]
    broll = [s for s in segments if s.kind != "speech"] if options.broll else []
    return _Pool(hooks, dict(sorted(bodies.items())), ctas, broll)


def _pick_index(rng: random.Random, count: int) -> int:
    """Mostly the strongest remaining hook, sometimes one of the next two (seeded)."""
    return min(count - 1, rng.choices((0, 1, 2), weights=(6, 2, 1))[0])


def _variant_for(
    hook: Segment, pool: _Pool, made: list[PlannedVariant], options: PlanOptions, rng: random.Random
) -> tuple[list[Segment], list[str]] | None:
    for _ in range(options.tries):
        drawn = _draw(hook, pool, options, rng)
        if drawn is None:
            continue
        hashes = [h for p in drawn[0] for h in p.hashes]
        if all(_share(hashes, other.hashes, options) <= options.max_shared for other in made):
            return drawn
    return None


def _share(a: list[str], b: list[str], options: PlanOptions) -> float:
    return shared_fraction(a, b, options.plan_match_distance)


def _draw(
    hook: Segment, pool: _Pool, options: PlanOptions, rng: random.Random
) -> tuple[list[Segment], list[str]] | None:
    """One random variant around `hook`, or None when the draw misses the duration range."""
    low, high = options.duration
    sublabels = [name for name, items in pool.bodies.items() if any(s is not hook for s in items)]
    most = min(options.bodies[1], len(sublabels))
    count = rng.randint(min(options.bodies[0], most), most) if most else 0
    pieces, roles = [hook], ["hook"]
    if pool.broll and rng.random() < 0.5:
        pieces.append(rng.choice(pool.broll))
        roles.append("broll")
    for sublabel in rng.sample(sublabels, count):
        run = _run(rng, [s for s in pool.bodies[sublabel] if s is not hook])
        pieces.extend(run)
        roles.extend(["body"] * len(run))
    if options.cta and pool.ctas and rng.random() < 0.5:
        pieces.append(rng.choice(pool.ctas))
        roles.append("cta")
    total = sum(p.duration for p in pieces)
    spare = [s for s in pool.broll if s not in pieces]
    while total < low and spare:
        extra = spare.pop(rng.randrange(len(spare)))
        pieces.insert(1, extra)
        roles.insert(1, "broll")
        total += extra.duration
    return (pieces, roles) if low <= total <= high else None


def _run(rng: random.Random, items: list[Segment]) -> list[Segment]:
    """One or two consecutive sentences of one sublabel (consecutive in the same source)."""
    ordered = sorted(items, key=lambda s: (s.source, s.t0))
    start = rng.randrange(len(ordered))
    run = [ordered[start]]
    nxt = ordered[start + 1] if start + 1 < len(ordered) else None
    if nxt is not None and nxt.source == run[0].source and nxt.index == run[0].index + 1 and rng.random() < 0.5:
        run.append(nxt)
    return run


def _variant_id(product: str | None, pieces: list[Segment], seed: int) -> str:
    key = "|".join([product or "", str(seed), *(p.key for p in pieces)])
    return hashlib.sha256(key.encode()).hexdigest()[:12]
