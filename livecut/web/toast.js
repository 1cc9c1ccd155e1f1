// Small messages at the bottom right: errors stay longer than confirmations.
import { h } from "./dom.js";

const SHOW_MS = { error: 8000, info: 4000 };

export function toast(message, kind = "error") {
  let box = document.getElementById("toasts");
  if (!box) {
    box = h("div", { id: "toasts", role: "status", "aria-live": "polite" });
    document.body.append(box);
  }
  const item = h("div", { class: `toast toast-${kind}`, onclick: () => item.remove() }, message);
  box.append(item);
  setTimeout(() => item.remove(), SHOW_MS[kind] || SHOW_MS.info);
}
