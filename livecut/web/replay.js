// Room replay: the room's recording (HLS of its fragments), its utterances as a timeline and
// a transcript, its clips as markers, and a range (drag, or in/out at the playhead) that
// becomes a new clip with the label the operator picks.
import { Api } from "./api.js";
import { clamp, clock, h, isTyping, roundTime, secondsText } from "./dom.js";
import { on } from "./events.js";
import { playHls } from "./player.js";
import { labelChip, labelPicker } from "./taxonomy.js";
import { createTimeline } from "./timeline.js";
import { toast } from "./toast.js";

const MIN_LENGTH_S = 1.0; // livecut renders no shorter clip
const TRANSCRIPT_REFRESH_MS = 3000;

export function mountReplay(view, ctx, roomId) {
  let room = null;
  let utterances = [];
  const clips = new Map(); // clip_id → clip of this room
  let closed = false;
  let releasePlayer = null;

  const title = h("h1", {}, "Replay");
  const status = h("span", { class: "chip room-status" });
  const facts = h("span", { class: "muted" });
  const video = h("video", { class: "replay-video", controls: true, preload: "auto", playsInline: true });
  const timeline = createTimeline({ onSeek: seek, onRangeChange: showRange });
  const transcript = h("ol", { class: "utterances" });
  const clipList = h("ul", { class: "room-clips" });
  const inInput = h("input", { type: "number", name: "t0", step: 0.1, min: 0, "aria-label": "in (s)" });
  const outInput = h("input", { type: "number", name: "t1", step: 0.1, min: 0, "aria-label": "out (s)" });
  const picker = labelPicker();
  const lengthText = h("span", { class: "length muted" }, "drag on the timeline or set in/out to select a range");
  const makeButton = h("button", { type: "submit", class: "primary", disabled: true }, "Make clip ", h("kbd", {}, "c"));
  const rangeForm = h(
    "form",
    { class: "range-form", onsubmit: makeClip, novalidate: true },
    h("label", {}, "In ", inInput, " s"),
    h("button", { type: "button", onclick: () => setPoint("in") }, "Set in ", h("kbd", {}, "[")),
    h("label", {}, "Out ", outInput, " s"),
    h("button", { type: "button", onclick: () => setPoint("out") }, "Set out ", h("kbd", {}, "]")),
    picker.el,
    lengthText,
    h("span", { class: "spacer" }),
    makeButton,
  );
  for (const input of [inInput, outInput]) input.addEventListener("input", () => onInputs());

  view.append(
    h(
      "section",
      { class: "replay" },
      h("div", { class: "replay-head" }, h("a", { href: "#/rooms" }, "← Rooms"), title, status, facts),
      h(
        "div",
        { class: "replay-grid" },
        h("div", { class: "replay-main" }, video, timeline.el, rangeForm, h("h2", {}, "Clips of this room"), clipList),
        h("aside", { class: "replay-side" }, h("h2", {}, "Transcript"), h("p", { class: "muted hint" }, "click: play from there · shift+click: add to the range"), transcript),
      ),
    ),
  );

  // ----- playback and the range -----

  function seek(t) {
    video.currentTime = t;
  }

  function currentRange() {
    if (inInput.value === "" || outInput.value === "") return null;
    return { t0: roundTime(Number(inInput.value)), t1: roundTime(Number(outInput.value)) };
  }

  function validRange(range) {
    const end = room?.duration_s || Infinity;
    return range && range.t0 >= 0 && range.t1 <= end + 0.01 && range.t1 - range.t0 >= MIN_LENGTH_S;
  }

  function showRange(range) {
    inInput.value = range ? range.t0.toFixed(2) : "";
    outInput.value = range ? range.t1.toFixed(2) : "";
    refreshRangeText(range);
  }

  function onInputs() {
    const range = currentRange();
    if (range) timeline.setRange(range);
    refreshRangeText(range);
  }

  function refreshRangeText(range) {
    lengthText.textContent = range ? `${clock(range.t0)}–${clock(range.t1)} · ${secondsText(range.t1 - range.t0)}` : "drag on the timeline or set in/out to select a range";
    makeButton.disabled = !ctx.canReview || !validRange(range);
    makeButton.title = ctx.canReview ? "" : "viewers cannot make clips";
  }

  function setRange(range) {
    timeline.setRange(range);
    showRange(timeline.range());
  }

  function setPoint(which) {
    const now = roundTime(clamp(video.currentTime, 0, room?.duration_s || video.currentTime));
    const range = currentRange() || { t0: now, t1: now + 10 };
    setRange(which === "in" ? { t0: now, t1: Math.max(range.t1, now + MIN_LENGTH_S) } : { t0: Math.min(range.t0, now - MIN_LENGTH_S), t1: now });
  }

  async function makeClip(event) {
    event?.preventDefault();
    const range = currentRange();
    if (!ctx.canReview) return toast("Viewers cannot make clips.", "info");
    if (!validRange(range)) return toast(`Select a range of at least ${MIN_LENGTH_S} s inside the recording first.`, "info");
    const { label, sublabel } = picker.value();
    makeButton.disabled = true;
    try {
      const clip = await Api.makeClip(roomId, { t0: range.t0, t1: range.t1, label, sublabel });
      showClip(clip);
      toast(`Clip ${clock(range.t0)}–${clock(range.t1)} is rendering: it joins the queue when ready.`, "info");
    } catch (error) {
      toast(`Could not make the clip: ${error.message}`);
    } finally {
      refreshRangeText(currentRange());
    }
  }

  // ----- transcript, clips, room facts -----

  function showRoom(next) {
    room = next;
    title.textContent = room.name;
    status.textContent = room.status;
    status.className = `chip room-status room-${room.status}`;
    const clipCount = room.clips ?? room.counters?.clips ?? clips.size;
    facts.textContent = `${clock(room.duration_s)} recorded · ${clipCount} clips${room.error ? ` · ${room.error}` : ""}`;
    timeline.setExtent(0, Math.max(room.duration_s || 0, 1));
    timeline.setUtterances(utterances);
    timeline.setClips([...clips.values()]);
  }

  function showUtterances(list) {
    utterances = list;
    timeline.setUtterances(utterances);
    transcript.replaceChildren(
      ...utterances.map((u, i) =>
        h(
          "li",
          { dataset: { index: i }, onclick: (event) => pickUtterance(event, u) },
          h("span", { class: "time" }, clock(u.t0)),
          labelChip(u.label, u.sublabel),
          h("span", { class: "text", lang: u.lang || "zh" }, u.text),
        ),
      ),
    );
  }

  function pickUtterance(event, utterance) {
    if (event.shiftKey) {
      const range = currentRange();
      setRange(range ? { t0: Math.min(range.t0, utterance.t0), t1: Math.max(range.t1, utterance.t1) } : { t0: utterance.t0, t1: utterance.t1 });
    } else {
      seek(utterance.t0);
      video.play().catch(() => {});
    }
  }

  let spokenIndex = -1;
  function followPlayback() {
    const now = video.currentTime;
    timeline.setPlayhead(now);
    const index = utterances.findIndex((u) => u.t0 <= now && now < u.t1);
    if (index === spokenIndex) return;
    transcript.children[spokenIndex]?.classList.remove("current");
    spokenIndex = index;
    const row = transcript.children[index];
    if (row) {
      row.classList.add("current");
      row.scrollIntoView({ block: "nearest" });
    }
  }
  video.addEventListener("timeupdate", followPlayback);

  function showClip(clip) {
    clips.set(clip.clip_id, clip);
    timeline.setClips([...clips.values()]);
    const sorted = [...clips.values()].sort((a, b) => a.t0 - b.t0);
    clipList.replaceChildren(
      ...sorted.map((c) =>
        h(
          "li",
          { dataset: { clipId: c.clip_id }, onclick: () => seek(c.t0) },
          h("span", { class: "time" }, `${clock(c.t0)}–${clock(c.t1)}`),
          labelChip(c.label, c.sublabel),
          h("span", { class: `chip status status-${c.status}` }, c.status),
          h("span", { class: "text" }, c.text || ""),
        ),
      ),
    );
  }

  let transcriptTimer = null;
  function refreshTranscriptSoon() {
    if (transcriptTimer) return;
    transcriptTimer = setTimeout(async () => {
      transcriptTimer = null;
      try {
        if (!closed) showUtterances(await Api.utterances(roomId));
      } catch (error) {
        console.warn("livecut: transcript refresh failed", error);
      }
    }, TRANSCRIPT_REFRESH_MS);
  }

  async function load() {
    try {
      const [rooms, list, roomClips] = await Promise.all([Api.rooms(), Api.utterances(roomId), Api.clips({ room: roomId })]);
      if (closed) return;
      const found = rooms.find((r) => r.id === roomId);
      if (!found) {
        toast(`Room ${roomId} not found.`);
        return;
      }
      showUtterances(list);
      roomClips.forEach(showClip);
      showRoom(found);
      if (!releasePlayer) startPlayer(found);
    } catch (error) {
      toast(`Could not load the room: ${error.message}`);
    }
  }

  function startPlayer(found) {
    const start = Number(ctx.params.get("t")) || 0;
    releasePlayer = () => {}; // started: a resync must not start a second player
    playHls(video, found.playlist_url, { startPosition: start, onError: (message) => toast(message) }).then((release) => {
      if (closed) release();
      else releasePlayer = release;
    });
  }

  const unsubscribe = [
    on("room", (next) => {
      if (next.id !== roomId) return;
      const advanced = !room || next.processed_to !== room.processed_to;
      showRoom(next);
      if (advanced) refreshTranscriptSoon();
    }),
    on("clip", (clip) => clip.room === roomId && showClip(clip)),
    on("resync", load),
  ];

  ctx.setKeys((event) => {
    if (isTyping(event)) return;
    const handlers = {
      "[": () => setPoint("in"),
      "]": () => setPoint("out"),
      c: () => makeClip(),
      " ": () => (video.paused ? video.play().catch(() => {}) : video.pause()),
      Escape: () => setRange(null),
    };
    if (event.key === " " && event.target.closest?.("button, video")) return;
    if (!handlers[event.key]) return;
    event.preventDefault();
    handlers[event.key]();
  });

  refreshRangeText(null);
  load();
  return () => {
    closed = true;
    clearTimeout(transcriptTimer);
    unsubscribe.forEach((off) => off());
    video.pause();
    releasePlayer?.();
  };
}
