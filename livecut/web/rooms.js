// Rooms: every room with its status, length, clips and latency; push rooms show the RTMP server
// and the stream key (hidden until asked) to paste into OBS. Operators create and stop rooms.
import { Api } from "./api.js";
import { clock, h, secondsText } from "./dom.js";
import { on } from "./events.js";
import { toast } from "./toast.js";

const ENDED = new Set(["ended", "error"]);

export function mountRooms(view, ctx) {
  const rows = new Map(); // room id → <tr>
  const revealed = new Set(); // room ids whose stream key is shown
  const body = h("tbody");
  const empty = h("p", { class: "empty muted" }, "No rooms yet.");
  const table = h(
    "table",
    { class: "rooms" },
    h(
      "thead",
      {},
      h("tr", {}, ["Room", "Status", "Duration", "Clips", "Latency p50", "Ingest", ""].map((title) => h("th", {}, title))),
    ),
    body,
  );
  view.append(h("section", { class: "rooms-page" }, h("h1", {}, "Rooms"), ctx.canReview ? createForm() : null, table, empty));

  function createForm() {
    const name = h("input", { name: "name", required: true, maxlength: 200, placeholder: "e.g. brand A spring live" });
    const type = h("select", { name: "type" }, h("option", { value: "push" }, "push (OBS → livecut)"), h("option", { value: "pull" }, "pull (livecut reads a URL)"));
    const url = h("input", { name: "url", type: "url", placeholder: "rtmp://…, https://….flv or https://….m3u8", disabled: true });
    const brand = h("input", { name: "brand", maxlength: 64, placeholder: "optional", pattern: "[\\w\\-][\\w.\\-]*" });
    const submit = h("button", { type: "submit", class: "primary" }, "Create room");
    type.addEventListener("change", () => {
      url.disabled = type.value !== "pull";
      url.required = type.value === "pull";
    });
    const form = h(
      "form",
      { class: "create-room", onsubmit: create },
      h("label", {}, "Name ", name),
      h("label", {}, "Source ", type),
      h("label", { class: "grow" }, "URL ", url),
      h("label", {}, "Brand ", brand),
      submit,
    );
    async function create(event) {
      event.preventDefault();
      const source = type.value === "pull" ? { type: "pull", url: url.value.trim() } : { type: "push" };
      const payload = { name: name.value.trim(), source, ...(brand.value.trim() ? { brand: brand.value.trim() } : {}) };
      submit.disabled = true;
      try {
        const room = await Api.createRoom(payload);
        showRoom(room);
        toast(`Room “${room.name}” created${room.stream_key ? ": paste its RTMP server and key into OBS" : ""}.`, "info");
        form.reset();
        url.disabled = true;
      } catch (error) {
        toast(`Could not create the room: ${error.message}`);
      } finally {
        submit.disabled = false;
      }
    }
    return form;
  }

  function statusCell(room) {
    return h(
      "td",
      {},
      h("span", { class: `chip room-status room-${room.status}` }, room.status),
      room.error ? h("div", { class: "error-text" }, room.error) : null,
    );
  }

  // OBS wants the server and the key apart; the server URL is rtmp_url without the key.
  function ingestCell(room) {
    if (room.source?.type === "pull") {
      return h("td", {}, h("span", { class: "muted" }, "pull "), h("code", { class: "url" }, room.source.url || ""));
    }
    // livecut gives the key to operators only: it lets anyone publish into the room.
    if (!room.rtmp_url) return h("td", {}, h("span", { class: "muted" }, "push (key for operators only)"));
    const server = room.stream_key && room.rtmp_url.endsWith(`/${room.stream_key}`) ? room.rtmp_url.slice(0, -room.stream_key.length - 1) : room.rtmp_url;
    const shown = revealed.has(room.id);
    const toggle = h(
      "button",
      {
        type: "button",
        class: "quiet show-key",
        onclick: () => {
          if (shown) revealed.delete(room.id);
          else revealed.add(room.id);
          showRoom(room);
        },
      },
      shown ? "Hide key" : "Show key",
    );
    return h(
      "td",
      { class: "ingest" },
      h("div", {}, h("span", { class: "muted" }, "Server "), h("code", { class: "rtmp-url" }, server), copyButton(server, "server")),
      h(
        "div",
        {},
        h("span", { class: "muted" }, "Key "),
        h("code", { class: "stream-key" }, shown ? room.stream_key : "••••••••••"),
        toggle,
        shown ? copyButton(room.stream_key, "key") : null,
      ),
    );
  }

  function copyButton(text, what) {
    return h(
      "button",
      {
        type: "button",
        class: "quiet",
        onclick: async () => {
          try {
            await navigator.clipboard.writeText(text);
            toast(`Copied the ${what}.`, "info");
          } catch {
            toast(`Copy is not allowed here: select the ${what} and copy it by hand.`, "info");
          }
        },
      },
      "Copy",
    );
  }

  function actionsCell(room) {
    const stop = h(
      "button",
      { type: "button", class: "reject", disabled: !ctx.canReview || ENDED.has(room.status), onclick: () => stopRoom(room) },
      "Stop",
    );
    return h(
      "td",
      { class: "actions" },
      h("a", { href: `#/replay/${encodeURIComponent(room.id)}` }, "Replay"),
      h("a", { href: `#/queue?room=${encodeURIComponent(room.id)}` }, "Clips"),
      stop,
    );
  }

  async function stopRoom(room) {
    if (!confirm(`Stop room “${room.name}”? Its publisher is cut off and the room ends for good.`)) return;
    try {
      showRoom(await Api.stopRoom(room.id));
    } catch (error) {
      toast(`Could not stop the room: ${error.message}`);
    }
  }

  function showRoom(room) {
    const clips = room.clips ?? room.counters?.clips ?? 0;
    const row = h(
      "tr",
      { dataset: { roomId: room.id, status: room.status } },
      h("td", {}, h("a", { href: `#/replay/${encodeURIComponent(room.id)}`, class: "room-name" }, room.name), room.brand ? h("div", { class: "muted" }, room.brand) : null),
      statusCell(room),
      h("td", { class: "num" }, clock(room.duration_s)),
      h("td", { class: "num" }, String(clips)),
      h("td", { class: "num" }, room.latency_p50_s === null || room.latency_p50_s === undefined ? "–" : secondsText(room.latency_p50_s)),
      ingestCell(room),
      actionsCell(room),
    );
    const existing = rows.get(room.id);
    if (existing) existing.replaceWith(row);
    else body.prepend(row);
    rows.set(room.id, row);
    empty.hidden = rows.size > 0;
  }

  async function load() {
    try {
      const rooms = await Api.rooms();
      // Oldest first into prepend: the newest room ends on top.
      for (const room of [...rooms].sort((a, b) => (a.created_at ?? 0) - (b.created_at ?? 0))) showRoom(room);
    } catch (error) {
      toast(`Could not load rooms: ${error.message}`);
    }
    empty.hidden = rows.size > 0;
  }

  const unsubscribe = [on("room", showRoom), on("resync", load)];
  load();
  return () => unsubscribe.forEach((off) => off());
}
