// One clip in the queue: inline player, transcript with the spoken word highlighted, label,
// flags and review buttons. `update(clip)` patches it in place, so a change arriving from the
// live feed never restarts a video that is playing, unless the clip's media itself changed.
import { clock, h, secondsText } from "./dom.js";
import { displayName, labelChip } from "./taxonomy.js";

const REVIEWABLE = new Set(["ready", "approved", "rejected"]);
const LOW_CONFIDENCE = 0.6;

export function isReviewable(clip) {
  return REVIEWABLE.has(clip.status);
}

/** Seconds of the clip: the rendered file's length once ready, else its span on the room timeline. */
export function clipDuration(clip) {
  if (clip.status !== "rendering" && typeof clip.duration === "number") return clip.duration;
  return clip.t1 - clip.t0;
}

/**
 * A re-rendered (trimmed) clip keeps its file names, so the browser would show the cached old
 * file. livecut versions its media URLs; an unversioned URL gets the clip's span as version.
 */
function versioned(url, clip) {
  return url.includes("?") ? url : `${url}?span=${clip.t0}-${clip.t1}`;
}

/**
 * actions: {focus(card), review(card, action), relabel(card), trim(card), pick(card), replay(card)}
 * roomName(id) names the room; canReview false disables every review control (viewers).
 */
export function createCard(clip, { roomName, canReview, actions }) {
  const card = { clip, panel: null };
  const media = h("div", { class: "card-media" });
  const head = h("div", { class: "card-head" });
  const flags = h("div", { class: "flags" });
  const transcript = h("p", { class: "transcript", lang: "zh" });
  const panelSlot = h("div", { class: "card-panel" });
  const pickBox = h("input", {
    type: "checkbox",
    class: "pick",
    title: "select for bulk review (x)",
    "aria-label": "select for bulk review",
    onchange: () => actions.pick(card),
  });
  const button = (text, key, action, extra = {}) =>
    h("button", { type: "button", dataset: { action }, title: `${text} (${key})`, onclick: () => actions[action](card), ...extra }, text, " ", h("kbd", {}, key));
  const reviewButtons = {
    approve: button("Approve", "a", "approve", { class: "approve" }),
    reject: button("Reject", "r", "reject", { class: "reject" }),
    relabel: button("Relabel", "l", "relabel"),
    trim: button("Trim", "t", "trim"),
    schedule: button("Schedule", "s", "schedule"),
  };
  const actionsRow = h(
    "div",
    { class: "card-actions" },
    Object.values(reviewButtons),
    h("label", { class: "pick-label" }, pickBox, " select ", h("kbd", {}, "x")),
    h("span", { class: "spacer" }),
    button("Replay", "o", "replay", { class: "quiet" }),
  );
  card.el = h(
    "article",
    { class: "card", tabindex: -1, dataset: { clipId: clip.clip_id, room: clip.room }, onpointerdown: () => actions.focus(card) },
    media,
    h("div", { class: "card-body" }, head, flags, transcript, actionsRow, panelSlot),
  );
  card.panelSlot = panelSlot;
  card.video = null;
  let mediaKey = null;
  let wordSpans = [];
  let transcriptKey = null;

  function renderHead() {
    const { clip: c } = card;
    const confidence = typeof c.confidence === "number" ? c.confidence : null;
    head.replaceChildren(
      labelChip(c.label, c.sublabel),
      h("span", { class: `chip status status-${c.status}` }, c.status),
      confidence === null
        ? null
        : h("span", { class: `confidence${confidence < LOW_CONFIDENCE ? " low" : ""}`, title: "classifier confidence" }, `${Math.round(confidence * 100)}%`),
      h("span", { class: "duration", title: "clip length" }, secondsText(clipDuration(c))),
      h("span", { class: "span muted", title: "in and out on the room's timeline" }, `${clock(c.t0)}–${clock(c.t1)}`),
      h("span", { class: "room muted", title: `room ${c.room}` }, roomName(c.room)),
      typeof c.latency_s === "number" ? h("span", { class: "muted", title: "latency: last word to clip ready" }, `latency ${secondsText(c.latency_s)}`) : null,
    );
  }

  function renderFlags() {
    const { clip: c } = card;
    const chips = [];
    if (c.needs_review) chips.push(h("span", { class: "chip flag flag-review", title: "low confidence or a flagged claim" }, "needs review 待审"));
    if (c.time_bound) chips.push(h("span", { class: "chip flag flag-time", title: "true on air only (今晚, 限时…): check before posting later" }, "time-bound 限时"));
    for (const claim of c.banned_claims || []) {
      chips.push(h("span", { class: "chip flag flag-banned", title: "advertising-law banned claim 违禁词" }, `banned claim: ${claim}`));
    }
    flags.replaceChildren(...chips);
    flags.hidden = chips.length === 0;
  }

  function renderTranscript() {
    const { clip: c } = card;
    const key = JSON.stringify([c.text, c.t0, c.t1, (c.words || []).length]);
    if (key === transcriptKey) return;
    transcriptKey = key;
    const words = c.words || [];
    if (!words.length) {
      wordSpans = [];
      transcript.replaceChildren(c.text || "");
      return;
    }
    wordSpans = words.map((word) =>
      h("span", { class: "word", title: clock(word.t0), onclick: () => seekTo(word.t0) }, word.text),
    );
    transcript.replaceChildren(...wordSpans);
  }

  function seekTo(roomTime) {
    if (card.video) card.video.currentTime = Math.max(0, roomTime - card.clip.t0);
  }

  // Highlights the word being spoken: video time 0 is the clip's in point on the room timeline.
  function highlightWord() {
    const now = card.clip.t0 + card.video.currentTime;
    const words = card.clip.words || [];
    words.forEach((word, i) => wordSpans[i]?.classList.toggle("current", word.t0 <= now && now < word.t1));
  }

  function renderMedia() {
    const { clip: c } = card;
    const key = JSON.stringify([c.status === "rendering", c.status === "failed", c.video_url, c.t0, c.t1]);
    if (key === mediaKey) return;
    mediaKey = key;
    if (c.status === "rendering" || c.status === "failed" || !c.video_url) {
      if (card.video) card.video.pause();
      media.replaceChildren(
        h("div", { class: `placeholder ${c.status}` }, c.status === "failed" ? `render failed${c.error ? `: ${c.error}` : ""}` : "rendering…"),
      );
      card.video = null;
      return;
    }
    const video = h("video", {
      controls: true,
      preload: "metadata",
      playsInline: true,
      poster: c.thumbnail_url ? versioned(c.thumbnail_url, c) : null,
      src: versioned(c.video_url, c),
    });
    video.addEventListener("timeupdate", highlightWord);
    video.addEventListener("seeked", highlightWord);
    media.replaceChildren(video);
    card.video = video;
  }

  function renderControls() {
    const reviewable = isReviewable(card.clip);
    for (const [action, control] of Object.entries(reviewButtons)) {
      const allowed = canReview && (reviewable || (action === "trim" && card.clip.status === "failed"));
      control.disabled = !allowed;
      control.title = canReview ? control.title : "viewers cannot review clips";
    }
    pickBox.disabled = !canReview;
    card.el.dataset.status = card.clip.status;
  }

  card.update = (next) => {
    card.clip = next;
    renderHead();
    renderFlags();
    renderTranscript();
    renderMedia();
    renderControls();
  };
  card.setPicked = (picked) => {
    pickBox.checked = picked;
    card.el.classList.toggle("picked", picked);
  };
  card.setCurrent = (current) => card.el.classList.toggle("current", current);
  card.openPanel = (panel) => {
    card.closePanel();
    card.panel = panel;
    panelSlot.replaceChildren(panel.el);
    panel.focus?.();
  };
  card.closePanel = () => {
    card.panel?.destroy?.();
    card.panel = null;
    panelSlot.replaceChildren();
  };
  card.togglePlay = () => {
    if (!card.video) return;
    if (card.video.paused) card.video.play().catch(() => {});
    else card.video.pause();
  };
  card.update(clip);
  return card;
}

/** The relabel form shown inside a card: label + sublabel selects; enter saves, esc cancels. */
export function relabelPanel(clip, labelPicker, { onSave, onCancel }) {
  const picker = labelPicker(clip.label, clip.sublabel);
  const el = h(
    "form",
    {
      class: "panel-form relabel",
      onsubmit: (event) => {
        event.preventDefault();
        onSave(picker.value());
      },
      onkeydown: (event) => {
        if (event.key === "Escape") onCancel();
        // Enter on a select would open its list; here it saves (arrow keys pick the value).
        if (event.key === "Enter" && event.target.tagName === "SELECT") {
          event.preventDefault();
          el.requestSubmit();
        }
      },
    },
    h("span", { class: "muted" }, "Relabel as"),
    picker.el,
    h("button", { type: "submit", class: "primary" }, "Save & approve ", h("kbd", {}, "enter")),
    h("button", { type: "button", onclick: onCancel }, "Cancel ", h("kbd", {}, "esc")),
    h("span", { class: "muted" }, `now: ${displayName(clip.label)}${clip.sublabel ? ` / ${displayName(clip.sublabel)}` : ""}`),
  );
  return {
    el,
    focus: () => picker.labelSelect.focus(),
    onKey: () => false,
  };
}
