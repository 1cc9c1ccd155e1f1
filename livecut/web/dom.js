// Small DOM and formatting helpers shared by the pages.

/**
 * Builds an element: h("button", {class: "x", onclick: fn, disabled: true}, "text", child, [more]).
 * Props starting with "on" become listeners, `dataset` fills data-*, false/null props are skipped.
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value);
    } else if (name === "dataset") {
      Object.assign(el.dataset, value);
    } else if (name === "class") {
      el.className = value;
    } else if (name === "style") {
      el.style.cssText = value; // through the CSSOM: the page's CSP refuses inline style attributes
    } else if (name in el && typeof value !== "string") {
      el[name] = value; // properties such as disabled, checked, value, muted
    } else {
      el.setAttribute(name, value === true ? "" : value);
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

/** "1:05:09" for an hour or more, else "4:09". */
export function clock(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "–";
  const total = Math.max(0, Math.floor(seconds));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const secs = String(total % 60).padStart(2, "0");
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${secs}` : `${minutes}:${secs}`;
}

/** "12.8 s" */
export function secondsText(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "–";
  return `${Number(seconds).toFixed(1)} s`;
}

/** Rounds a media time to what the inputs show and the API stores (milliseconds). */
export function roundTime(seconds) {
  return Math.round(seconds * 1000) / 1000;
}

export function clamp(value, low, high) {
  return Math.min(high, Math.max(low, value));
}

/** True when a key press is meant for a form field, not for the page's shortcuts. */
export function isTyping(event) {
  const target = event.target;
  if (!(target instanceof Element)) return false;
  return Boolean(target.closest("input, select, textarea, [contenteditable]")) && target.type !== "checkbox";
}

/** Waits for the page to stop calling within `ms`, then runs `fn` once. */
export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}
