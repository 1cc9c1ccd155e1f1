// The clip queue: filters, newest clips first, live additions from the event stream, and
// keyboard review. Every action shows its result at once and is rolled back (with a toast)
// if livecut refuses it.
import { Api } from "./api.js";
import { createCard, isReviewable, relabelPanel } from "./card.js";
import { h, isTyping } from "./dom.js";
import { on } from "./events.js";
import { LABELS, SUBLABELS, labelPicker, options } from "./taxonomy.js";
import { toast } from "./toast.js";
import { trimPanel } from "./trim.js";

const STATUSES = ["ready", "rendering", "approved", "rejected", "failed"];
const FILTER_NAMES = ["room", "label", "sublabel", "status", "min_confidence"];
const FRESH_MS = 4000;

export function mountQueue(view, ctx) {
  const filters = Object.fromEntries(FILTER_NAMES.map((name) => [name, ctx.params.get(name) || ""]));
  const cards = new Map(); // clip_id → card, in page order inside `list`
  const picked = new Set(); // clip ids selected for bulk review
  const rooms = new Map(); // room id → room
  let current = null; // the card the keys act on
  let unmounted = false;
  let loads = 0; // a list that arrives after a newer request (filters changed) is dropped

  const roomSelect = h("select", { name: "room", "aria-label": "room" });
  const list = h("div", { class: "cards", id: "cards" });
  const empty = h("p", { class: "empty muted" }, "No clips match yet. New clips appear here as livecut cuts them: no reload needed.");
  const countText = h("span", { class: "count muted" });
  const bulkBar = h("div", { class: "bulkbar", hidden: true });

  const form = h(
    "form",
    { class: "filters", onchange: applyFilters, onsubmit: (event) => event.preventDefault() },
    h("label", {}, "Room ", roomSelect),
    h("label", {}, "Label ", h("select", { name: "label" }, options(LABELS, filters.label, "all"))),
    h("label", {}, "Sublabel ", h("select", { name: "sublabel" }, options(SUBLABELS, filters.sublabel, "all"))),
    h("label", {}, "Status ", h("select", { name: "status" }, statusOptions(filters.status))),
    h(
      "label",
      { title: "hide clips the classifier is less sure of" },
      "Min confidence ",
      h("input", { name: "min_confidence", type: "number", min: 0, max: 1, step: 0.05, value: filters.min_confidence, placeholder: "0–1" }),
    ),
    h("span", { class: "spacer" }),
    countText,
  );
  view.append(h("section", { class: "queue" }, form, bulkBar, list, empty));

  // ----- filters -----

  function statusOptions(selected) {
    return [h("option", { value: "" }, "all"), ...STATUSES.map((s) => h("option", { value: s, selected: s === selected }, s === "ready" ? "ready (to review)" : s))];
  }

  function renderRoomOptions() {
    const chosen = filters.room;
    const sorted = [...rooms.values()].sort((a, b) => String(a.name).localeCompare(String(b.name)));
    roomSelect.replaceChildren(
      h("option", { value: "" }, "all rooms"),
      ...sorted.map((room) => h("option", { value: room.id, selected: room.id === chosen }, `${room.name} (${room.status})`)),
    );
    if (chosen && !rooms.has(chosen)) roomSelect.append(h("option", { value: chosen, selected: true }, chosen));
  }

  function applyFilters() {
    const data = new FormData(form);
    for (const name of FILTER_NAMES) filters[name] = String(data.get(name) ?? "").trim();
    // The query keeps the filters across reloads without a hashchange (no remount).
    const search = new URLSearchParams(Object.entries(filters).filter(([, v]) => v)).toString();
    history.replaceState(null, "", `#/queue${search ? `?${search}` : ""}`);
    for (const card of cards.values()) card.closePanel();
    cards.clear();
    picked.clear();
    current = null;
    list.replaceChildren();
    load();
  }

  /** The filter as the server sees it; also applied here to clips arriving from the live feed. */
  function matches(clip) {
    const min = filters.min_confidence === "" ? null : Number(filters.min_confidence);
    return (
      (!filters.room || clip.room === filters.room) &&
      (!filters.label || clip.label === filters.label) &&
      (!filters.sublabel || clip.sublabel === filters.sublabel) &&
      (!filters.status || clip.status === filters.status) &&
      (min === null || Number.isNaN(min) || (clip.confidence ?? 0) >= min)
    );
  }

  // ----- loading and the live feed -----

  async function load() {
    const generation = ++loads;
    try {
      const [roomList, clips] = await Promise.all([Api.rooms(), Api.clips(filters)]);
      if (unmounted || generation !== loads) return;
      for (const room of roomList) rooms.set(room.id, room);
      renderRoomOptions();
      // Oldest first, so each insert lands above the previous one: newest ends on top.
      for (const clip of [...clips].reverse()) upsert(clip, { fresh: false });
      if (!current) setCurrent(orderedCards()[0], { scroll: false });
    } catch (error) {
      toast(`Could not load clips: ${error.message}`);
    }
    refreshCounts();
  }

  /** Updates the clip's card, or adds a card in created_at order (newest first) if it matches. */
  function upsert(clip, { fresh }) {
    const card = cards.get(clip.clip_id);
    if (card) {
      card.update(clip);
    } else if (matches(clip)) {
      insertCard(clip, fresh);
      if (fresh && !current) setCurrent(orderedCards()[0], { scroll: false });
    }
    refreshCounts();
  }

  function insertCard(clip, fresh) {
    const card = createCard(clip, { roomName, canReview: ctx.canReview, actions: cardActions });
    cards.set(clip.clip_id, card);
    const older = orderedCards().find((other) => (other.clip.created_at ?? 0) < (clip.created_at ?? 0));
    if (older) list.insertBefore(card.el, older.el);
    else list.append(card.el);
    if (fresh) {
      card.el.classList.add("fresh");
      setTimeout(() => card.el.classList.remove("fresh"), FRESH_MS);
    }
  }

  function roomName(roomId) {
    return rooms.get(roomId)?.name || roomId;
  }

  const unsubscribe = [
    on("clip", (clip) => upsert(clip, { fresh: true })),
    on("room", (room) => {
      const known = rooms.has(room.id);
      rooms.set(room.id, room);
      if (!known) renderRoomOptions();
    }),
    // Events may have been missed while the stream was down: merge the list again.
    on("resync", load),
  ];

  // ----- selection -----

  function orderedCards() {
    return [...list.children].map((el) => cards.get(el.dataset.clipId)).filter(Boolean);
  }

  function setCurrent(card, { scroll = true } = {}) {
    if (current === card) return;
    current?.setCurrent(false);
    current = card || null;
    if (!current) return;
    current.setCurrent(true);
    if (scroll) current.el.scrollIntoView({ block: "nearest", behavior: "smooth" });
  }

  function move(step) {
    const ordered = orderedCards();
    if (!ordered.length) return;
    const index = current ? ordered.indexOf(current) : -1;
    setCurrent(ordered[Math.min(ordered.length - 1, Math.max(0, index + step))]);
  }

  function togglePick(card) {
    if (!ctx.canReview) return;
    if (picked.has(card.clip.clip_id)) picked.delete(card.clip.clip_id);
    else picked.add(card.clip.clip_id);
    card.setPicked(picked.has(card.clip.clip_id));
    refreshCounts();
  }

  function refreshCounts() {
    const all = [...cards.values()];
    const toReview = all.filter((card) => card.clip.status === "ready").length;
    countText.textContent = `${all.length} ${all.length === 1 ? "clip" : "clips"} · ${toReview} to review`;
    empty.hidden = all.length > 0;
    bulkBar.hidden = picked.size === 0;
    if (picked.size) {
      bulkBar.replaceChildren(
        h("strong", {}, `${picked.size} selected`),
        h("button", { type: "button", class: "approve", onclick: () => bulkReview("approve") }, "Approve selected ", h("kbd", {}, "⇧A")),
        h("button", { type: "button", class: "reject", onclick: () => bulkReview("reject") }, "Reject selected ", h("kbd", {}, "⇧R")),
        h("button", { type: "button", class: "quiet", onclick: clearPicked }, "Clear"),
      );
    }
  }

  function clearPicked() {
    for (const id of picked) cards.get(id)?.setPicked(false);
    picked.clear();
    refreshCounts();
  }

  // ----- review actions -----

  function mayReview(card) {
    if (!card) return false;
    if (!ctx.canReview) {
      toast("Viewers can watch clips but not review them.", "info");
      return false;
    }
    if (!isReviewable(card.clip)) {
      toast(`This clip is ${card.clip.status}: it can be reviewed once it is ready.`, "info");
      return false;
    }
    return true;
  }

  /** Shows `optimistic` at once, saves with `save()`, shows what livecut answers or rolls back. */
  async function saveOptimistically(card, optimistic, save, what) {
    const before = card.clip;
    card.update(optimistic);
    refreshCounts();
    try {
      const saved = await save();
      if (saved && saved.clip_id === before.clip_id) card.update(saved);
    } catch (error) {
      card.update(before);
      toast(`Could not ${what}: ${error.message}`);
    }
    refreshCounts();
  }

  function review(card, action) {
    if (!mayReview(card)) return;
    const status = action === "approve" ? "approved" : "rejected";
    saveOptimistically(card, { ...card.clip, status }, () => Api.review(card.clip.clip_id, { action }), `${action} the clip`);
    // Operators go through the queue top to bottom: the next clip is ready for the next key.
    if (card === current) move(1);
  }

  function openRelabel(card) {
    if (!mayReview(card)) return;
    setCurrent(card);
    card.openPanel(
      relabelPanel(card.clip, labelPicker, {
        onCancel: () => closePanel(card),
        onSave: ({ label, sublabel }) => {
          closePanel(card);
          saveOptimistically(
            card,
            { ...card.clip, label, sublabel, status: "approved" },
            () => Api.review(card.clip.clip_id, { action: "relabel", label, sublabel }),
            "relabel the clip",
          );
        },
      }),
    );
  }

  async function openTrim(card) {
    if (!ctx.canReview) return mayReview(card);
    if (card.clip.status === "rendering") return mayReview(card);
    setCurrent(card);
    const clip = card.clip;
    const room = rooms.get(clip.room) || { playlist_url: `/media/rooms/${clip.room}/index.m3u8`, duration_s: 0 };
    let utterances = [];
    try {
      utterances = await Api.utterances(clip.room);
    } catch (error) {
      toast(`Transcript unavailable: ${error.message}`, "info");
    }
    if (unmounted) return;
    card.openPanel(
      trimPanel(clip, room, utterances, {
        onCancel: () => closePanel(card),
        onError: (message) => toast(message),
        onSubmit: (t0, t1) => {
          closePanel(card);
          saveOptimistically(card, { ...card.clip, t0, t1, status: "rendering" }, () => Api.trim(clip.clip_id, t0, t1), "trim the clip");
        },
      }),
    );
  }

  function closePanel(card) {
    card.closePanel();
    card.el.focus({ preventScroll: true });
  }

  async function bulkReview(action) {
    if (!ctx.canReview) return mayReview(current);
    const chosen = [...picked].map((id) => cards.get(id)).filter((card) => card && isReviewable(card.clip));
    if (!chosen.length) {
      toast("Select ready clips with x first.", "info");
      return;
    }
    const status = action === "approve" ? "approved" : "rejected";
    const before = chosen.map((card) => card.clip);
    chosen.forEach((card) => card.update({ ...card.clip, status }));
    clearPicked();
    try {
      const saved = await Api.bulkReview(
        chosen.map((card) => card.clip.clip_id),
        action,
      );
      for (const clip of Array.isArray(saved) ? saved : saved?.clips || []) cards.get(clip.clip_id)?.update(clip);
      toast(`${action === "approve" ? "Approved" : "Rejected"} ${chosen.length} clips.`, "info");
    } catch (error) {
      chosen.forEach((card, i) => card.update(before[i]));
      toast(`Could not ${action} the selected clips: ${error.message}`);
    }
    refreshCounts();
  }

  const cardActions = {
    focus: (card) => setCurrent(card, { scroll: false }),
    approve: (card) => review(card, "approve"),
    reject: (card) => review(card, "reject"),
    relabel: openRelabel,
    trim: openTrim,
    pick: togglePick,
    replay: (card) => (location.hash = `#/replay/${encodeURIComponent(card.clip.room)}?t=${card.clip.t0}`),
    schedule: scheduleClip,
  };

  // Approve and plan the clip over an account group's accounts in one action (the Posts page shows the plan).
  let lastGroup = "";
  async function scheduleClip(card) {
    if (!mayReview(card)) return;
    const group = prompt("Post to which account group? (empty = accounts without a group)", lastGroup);
    if (group === null) return;
    lastGroup = group.trim();
    try {
      const { clip, posts } = await Api.schedule(card.clip.clip_id, lastGroup);
      card.update(clip);
      refreshCounts();
      toast(posts.length ? `Scheduled on ${posts.length} account(s): see Posts.` : "Approved, but no account of that group has a free slot in the next 7 days.", "info");
    } catch (error) {
      toast(`Could not schedule the clip: ${error.message}`);
    }
  }

  // ----- keys -----

  ctx.setKeys((event) => {
    if (current?.panel?.onKey(event)) {
      event.preventDefault();
      return;
    }
    if (isTyping(event)) return;
    const key = event.key;
    const handlers = {
      j: () => move(1),
      k: () => move(-1),
      a: () => current && cardActions.approve(current),
      r: () => current && cardActions.reject(current),
      l: () => current && openRelabel(current),
      t: () => current && openTrim(current),
      x: () => current && togglePick(current),
      o: () => current && cardActions.replay(current),
      s: () => current && scheduleClip(current),
      A: () => bulkReview("approve"),
      R: () => bulkReview("reject"),
      " ": () => current?.togglePlay(),
      Escape: () => current && closePanel(current),
    };
    // Space and enter on a focused button or player belong to that control.
    if (key === " " && event.target.closest?.("button, video")) return;
    if (!handlers[key]) return;
    event.preventDefault();
    handlers[key]();
  });

  renderRoomOptions();
  load();
  return () => {
    unmounted = true;
    unsubscribe.forEach((off) => off());
    for (const card of cards.values()) card.closePanel();
  };
}
