// A horizontal timeline over [start, end] seconds of a room's recording: utterances as
// segments colored by label, clips as markers, a playhead, and an in/out range with two
// handles. Click seeks; dragging on the track selects a new range; dragging a handle moves it.
import { clamp, clock, h, roundTime } from "./dom.js";
import { labelText } from "./taxonomy.js";

const DRAG_THRESHOLD_PX = 4;
const TICKS = 6;

export function createTimeline({ start = 0, end = 1, editable = true, onSeek = () => {}, onRangeChange = () => {} }) {
  const segments = h("div", { class: "tl-segments" });
  const clipsRow = h("div", { class: "tl-clips" });
  const handleIn = h("div", { class: "tl-handle tl-in", title: "in point (drag)" });
  const handleOut = h("div", { class: "tl-handle tl-out", title: "out point (drag)" });
  const rangeBox = h("div", { class: "tl-range", hidden: true }, handleIn, handleOut);
  const playhead = h("div", { class: "tl-playhead" });
  const track = h("div", { class: "tl-track" }, segments, rangeBox, playhead);
  const ticks = h("div", { class: "tl-ticks" });
  const el = h("div", { class: `timeline${editable ? " editable" : ""}` }, track, clipsRow, ticks);

  let extent = { start, end };
  let range = null;

  const span = () => Math.max(extent.end - extent.start, 0.001);
  const percent = (t) => `${((clamp(t, extent.start, extent.end) - extent.start) / span()) * 100}%`;
  const width = (t0, t1) => `${((clamp(t1, extent.start, extent.end) - clamp(t0, extent.start, extent.end)) / span()) * 100}%`;
  const timeAt = (clientX) => {
    const box = track.getBoundingClientRect();
    return roundTime(extent.start + clamp((clientX - box.left) / box.width, 0, 1) * span());
  };

  function drawTicks() {
    ticks.replaceChildren();
    for (let i = 0; i <= TICKS; i++) {
      const t = extent.start + (span() * i) / TICKS;
      ticks.append(h("span", { style: `left:${(i / TICKS) * 100}%` }, clock(t)));
    }
  }

  function drawRange() {
    rangeBox.hidden = !range;
    if (!range) return;
    rangeBox.style.left = percent(range.t0);
    rangeBox.style.width = width(range.t0, range.t1);
  }

  function setRange(next) {
    range = next ? { t0: Math.min(next.t0, next.t1), t1: Math.max(next.t0, next.t1) } : null;
    drawRange();
  }

  // Pointer handling: which handle (or a new range) follows the pointer until it is released.
  let drag = null;
  track.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    track.setPointerCapture(event.pointerId);
    const t = timeAt(event.clientX);
    if (editable && event.target === handleIn) drag = { kind: "in", x: event.clientX, moved: true };
    else if (editable && event.target === handleOut) drag = { kind: "out", x: event.clientX, moved: true };
    else drag = { kind: "new", x: event.clientX, anchor: t, moved: false };
    event.preventDefault();
  });
  track.addEventListener("pointermove", (event) => {
    if (!drag) return;
    if (!drag.moved && Math.abs(event.clientX - drag.x) < DRAG_THRESHOLD_PX) return;
    drag.moved = true;
    if (!editable) return;
    const t = timeAt(event.clientX);
    if (drag.kind === "new") setRange({ t0: drag.anchor, t1: t });
    else if (drag.kind === "in") setRange({ t0: Math.min(t, range.t1 - 0.1), t1: range.t1 });
    else setRange({ t0: range.t0, t1: Math.max(t, range.t0 + 0.1) });
    onRangeChange({ ...range });
  });
  const release = (event) => {
    if (!drag) return;
    if (!drag.moved) onSeek(timeAt(event.clientX));
    drag = null;
  };
  track.addEventListener("pointerup", release);
  track.addEventListener("pointercancel", () => (drag = null));

  drawTicks();
  return {
    el,
    range: () => (range ? { ...range } : null),
    setRange,
    setExtent(nextStart, nextEnd) {
      extent = { start: nextStart, end: Math.max(nextEnd, nextStart + 0.001) };
      drawTicks();
      drawRange();
    },
    setPlayhead(t) {
      playhead.style.left = percent(t);
    },
    /** Utterances [{t0, t1, label, sublabel, text}]: colored segments, their text as tooltip. */
    setUtterances(utterances) {
      segments.replaceChildren(
        ...utterances.map((u) =>
          h("div", {
            class: `tl-segment label-${u.label || "none"}`,
            style: `left:${percent(u.t0)};width:${width(u.t0, u.t1)}`,
            title: `${clock(u.t0)} ${labelText(u.label, u.sublabel)}\n${u.text}`,
          }),
        ),
      );
    },
    /** Clips [{clip_id, t0, t1, label, status}]: markers under the track; click seeks to the clip. */
    setClips(clips) {
      clipsRow.replaceChildren(
        ...clips.map((clip) =>
          h("div", {
            class: `tl-clip label-${clip.label || "none"} status-${clip.status}`,
            style: `left:${percent(clip.t0)};width:${width(clip.t0, clip.t1)}`,
            title: `clip ${labelText(clip.label, clip.sublabel)} ${clock(clip.t0)}–${clock(clip.t1)} (${clip.status})`,
            onclick: () => onSeek(clip.t0),
          }),
        ),
      );
    },
  };
}
