// The label taxonomy of config.toml ([taxonomy.*]), with the Chinese names operators use.
// The API has no taxonomy endpoint, so the list lives here; keep it in step with config.toml.
import { h } from "./dom.js";

export const LABELS = [
  { value: "selling_point", zh: "卖点" },
  { value: "price_promo", zh: "降价促销" },
  { value: "call_to_action", zh: "引导下单" },
  { value: "chitchat", zh: "闲聊" },
];

// Sublabels belong to selling_point only.
export const SUBLABELS = [
  { value: "fabric", zh: "面料" },
  { value: "drape", zh: "垂感" },
  { value: "skin_feel", zh: "亲肤" },
  { value: "fit", zh: "版型" },
  { value: "design", zh: "设计" },
  { value: "function", zh: "功能" },
];

export const LABEL_WITH_SUBLABELS = "selling_point";

const chinese = new Map([...LABELS, ...SUBLABELS].map((item) => [item.value, item.zh]));

/** "fabric 面料" */
export function displayName(value) {
  if (!value) return "";
  const zh = chinese.get(value);
  return zh ? `${value} ${zh}` : value;
}

/** "selling_point 卖点 / fabric 面料" */
export function labelText(label, sublabel) {
  return sublabel ? `${displayName(label)} / ${displayName(sublabel)}` : displayName(label);
}

/** A label chip colored by label (CSS class label-<label>). */
export function labelChip(label, sublabel) {
  return h("span", { class: `chip label label-${label || "none"}`, title: "label" }, labelText(label, sublabel) || "no label");
}

/** <option>s; `blank` adds a first option with value "". */
export function options(items, selected, blank) {
  const list = blank === undefined ? [] : [h("option", { value: "" }, blank)];
  for (const item of items) {
    list.push(h("option", { value: item.value, selected: item.value === selected }, displayName(item.value)));
  }
  return list;
}

/**
 * A label select and a sublabel select that is enabled only for selling_point.
 * Returns {el, labelSelect, sublabelSelect, value()}.
 */
export function labelPicker(label = LABEL_WITH_SUBLABELS, sublabel = null) {
  const sublabelSelect = h("select", { name: "sublabel", "aria-label": "sublabel" }, options(SUBLABELS, sublabel, "(none)"));
  const labelSelect = h("select", { name: "label", "aria-label": "label" }, options(LABELS, label));
  const sync = () => {
    const hasSublabels = labelSelect.value === LABEL_WITH_SUBLABELS;
    sublabelSelect.disabled = !hasSublabels;
    if (!hasSublabels) sublabelSelect.value = "";
  };
  labelSelect.addEventListener("change", sync);
  sync();
  return {
    el: h("span", { class: "label-picker" }, labelSelect, sublabelSelect),
    labelSelect,
    sublabelSelect,
    value: () => ({ label: labelSelect.value, sublabel: sublabelSelect.value || null }),
  };
}
