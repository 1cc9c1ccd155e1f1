// The trim panel of a card: the room's recording around the clip, a timeline with the clip's
// in and out points as handles, number inputs, and "set at playhead" buttons. Submitting asks
// livecut to re-render the clip from the stored fragments.
import { clamp, h, roundTime, secondsText } from "./dom.js";
import { playHls } from "./player.js";
import { createTimeline } from "./timeline.js";

const CONTEXT_S = 15; // recording shown before and after the clip
const MIN_LENGTH_S = 1.0; // livecut renders no shorter clip

/** room: {playlist_url, duration_s}; utterances of the room; onSubmit(t0, t1); onCancel(); onError(message). */
export function trimPanel(clip, room, utterances, { onSubmit, onCancel, onError }) {
  // A room list that lags behind the clip (or has no duration yet) must not hide the clip's end.
  const roomEnd = Math.max(room.duration_s || 0, clip.t1);
  const start = Math.max(0, clip.t0 - CONTEXT_S);
  const end = Math.min(roomEnd, clip.t1 + CONTEXT_S);
  const video = h("video", { class: "room-video", controls: true, preload: "auto", playsInline: true });
  const inInput = h("input", { type: "number", name: "t0", step: 0.1, min: 0, max: roomEnd, value: clip.t0, "aria-label": "in (s)" });
  const outInput = h("input", { type: "number", name: "t1", step: 0.1, min: 0, max: roomEnd, value: clip.t1, "aria-label": "out (s)" });
  const lengthText = h("span", { class: "length muted" });
  const submit = h("button", { type: "submit", class: "primary" }, "Re-render ", h("kbd", {}, "enter"));
  let stopAt = null; // "play range" pauses at the out point

  const timeline = createTimeline({
    start,
    end,
    onSeek: (t) => (video.currentTime = t),
    onRangeChange: (range) => showRange(range, false),
  });
  timeline.setUtterances(utterances.filter((u) => u.t1 > start && u.t0 < end));
  timeline.setRange({ t0: clip.t0, t1: clip.t1 });

  function currentRange() {
    return { t0: roundTime(Number(inInput.value)), t1: roundTime(Number(outInput.value)) };
  }

  // Keeps inputs, timeline and the length line in step; `fromInputs` when the user typed.
  function showRange(range, fromInputs) {
    if (!fromInputs) {
      inInput.value = range.t0.toFixed(2);
      outInput.value = range.t1.toFixed(2);
    } else {
      timeline.setRange(range);
    }
    const length = range.t1 - range.t0;
    lengthText.textContent = `new length ${secondsText(length)} (was ${secondsText(clip.t1 - clip.t0)})`;
    submit.disabled = !valid(range);
  }

  const valid = (range) => range.t0 >= 0 && range.t1 <= roomEnd + 0.01 && range.t1 - range.t0 >= MIN_LENGTH_S;

  function setPoint(which) {
    const now = roundTime(clamp(video.currentTime, 0, roomEnd));
    const range = currentRange();
    const next = which === "in" ? { t0: now, t1: Math.max(range.t1, now + MIN_LENGTH_S) } : { t0: Math.min(range.t0, now - MIN_LENGTH_S), t1: now };
    next.t0 = Math.max(0, next.t0);
    timeline.setRange(next);
    showRange(next, false);
  }

  function playRange() {
    const range = currentRange();
    video.currentTime = range.t0;
    stopAt = range.t1;
    video.play().catch(() => {});
  }

  function submitRange(event) {
    event?.preventDefault();
    const range = currentRange();
    if (!valid(range)) {
      onError(`in must be before out by at least ${MIN_LENGTH_S} s, inside the recording (0–${roomEnd.toFixed(1)} s)`);
      return;
    }
    onSubmit(range.t0, range.t1);
  }

  video.addEventListener("timeupdate", () => {
    timeline.setPlayhead(video.currentTime);
    if (stopAt !== null && video.currentTime >= stopAt) {
      video.pause();
      stopAt = null;
    }
  });
  for (const input of [inInput, outInput]) input.addEventListener("input", () => showRange(currentRange(), true));

  const el = h(
    "form",
    {
      class: "panel-form trim",
      // The inputs step by 0.1 s but hold any millisecond time: this code checks the range.
      novalidate: true,
      onsubmit: submitRange,
      onkeydown: (event) => event.key === "Escape" && onCancel(),
    },
    h("div", { class: "trim-video" }, video),
    h(
      "div",
      { class: "trim-controls" },
      timeline.el,
      h(
        "div",
        { class: "row" },
        h("label", {}, "In ", inInput, " s"),
        h("button", { type: "button", onclick: () => setPoint("in"), title: "set in at the playhead ([)" }, "Set in ", h("kbd", {}, "[")),
        h("label", {}, "Out ", outInput, " s"),
        h("button", { type: "button", onclick: () => setPoint("out"), title: "set out at the playhead (])" }, "Set out ", h("kbd", {}, "]")),
        h("button", { type: "button", onclick: playRange }, "Play range"),
      ),
      h("div", { class: "row" }, lengthText, h("span", { class: "spacer" }), submit, h("button", { type: "button", onclick: onCancel }, "Cancel ", h("kbd", {}, "esc"))),
    ),
  );
  showRange({ t0: clip.t0, t1: clip.t1 }, false);

  // hls.js loads asynchronously: a panel closed before it is ready releases it on arrival.
  let releasePlayer = null;
  let closed = false;
  playHls(video, room.playlist_url, { startPosition: clip.t0, onError }).then((release) => {
    if (closed) release();
    else releasePlayer = release;
  });

  return {
    el,
    focus: () => video.focus(),
    /** Page-level keys while the panel is open (not while typing in its inputs). */
    onKey(event) {
      if (event.target instanceof HTMLInputElement) return false;
      if (event.key === "[") setPoint("in");
      else if (event.key === "]") setPoint("out");
      else if (event.key === "Enter" && !(event.target instanceof HTMLButtonElement)) submitRange();
      else if (event.key === "Escape") onCancel();
      else return false;
      return true;
    },
    destroy() {
      closed = true;
      video.pause();
      releasePlayer?.();
    },
  };
}
