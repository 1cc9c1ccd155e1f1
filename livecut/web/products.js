// Products: the tenant's products (#/products) and one product walked step by step (#/products/<id>):
// its images with their detected roles (click a role to fix it), its attributes with their evidence
// (an OCR or image region is outlined on its photo; a host's words link to their room's recording at
// their time), its copy,
// its detail page (render per platform; edit a slot and only that page re-renders) and its export.
// Keyboard as in the clip queue: j / k the next / previous detail page, a approve the current step,
// e edit the current page's first text slot, d remove the page, r render, c confirm the detail page,
// x export.
import { Api } from "./api.js";
import { clock, h, isTyping } from "./dom.js";
import { toast } from "./toast.js";

const STEPS = ["images", "attributes", "copy", "layout", "ready"];
const ROLES = ["model", "mannequin", "packshot", "flat_lay", "detail", "label"];
const PLATFORMS = ["taobao", "jd"];
// catalog.images.OCR_SIDE: OCR regions are in pixels of the photo fitted into this square.
const OCR_SIDE = 1280;

export function mountProducts(view, ctx) {
  const rows = h("tbody");
  view.append(
    h(
      "section",
      { class: "products-page" },
      h("h1", {}, "Products"),
      h("table", { class: "products" }, h("thead", {}, h("tr", {}, ["SKU", "Title", "Brand", "Step"].map((t) => h("th", {}, t)))), rows),
    ),
  );
  Api.products()
    .then((products) => {
      rows.replaceChildren(
        ...products.map((p) =>
          h(
            "tr",
            { dataset: { productId: p.id } },
            h("td", {}, h("a", { href: `#/products/${encodeURIComponent(p.id)}` }, p.sku)),
            h("td", {}, p.title),
            h("td", {}, p.brand || "–"),
            h("td", {}, h("span", { class: "chip" }, p.step)),
          ),
        ),
      );
      if (!products.length) rows.append(h("tr", {}, h("td", { colspan: 4, class: "empty muted" }, "No products yet.")));
    })
    .catch((error) => toast(`Could not load the products: ${error.message}`));
  ctx.setKeys(null);
  return () => {};
}

export function mountProduct(view, ctx, productId) {
  const state = { product: null, plan: null, current: 0, renders: {}, alive: true };
  const root = h("section", { class: "product-page" });
  view.append(root);
  ctx.setKeys(onKey);

  async function load() {
    try {
      const [product, plan] = await Promise.all([Api.product(productId), Api.detail(productId)]);
      state.product = product;
      state.plan = plan;
      state.renders = plan.renders || {};
      if (state.alive) draw();
    } catch (error) {
      toast(`Could not load the product: ${error.message}`);
    }
  }

  function draw() {
    const { product, plan } = state;
    root.replaceChildren(
      h(
        "div",
        { class: "product-head" },
        h("h1", {}, product.title),
        h("span", { class: "muted" }, `${product.sku} · ${product.brand || "no brand"} · ${plan.category}`),
        h("ol", { class: "steps" }, STEPS.map((s) => h("li", { class: s === product.step ? "current" : STEPS.indexOf(s) < STEPS.indexOf(product.step) ? "done" : "" }, s))),
        ctx.canReview && product.step !== "ready"
          ? h("button", { class: "primary", id: "approve-step", onclick: approveStep }, `Approve ${product.step} `, h("kbd", {}, "a"))
          : null,
      ),
      imagesSection(),
      attributesSection(),
      copySection(),
      detailSection(),
      exportSection(),
    );
  }

  function imagesSection() {
    const roles = Object.fromEntries(state.plan.images.map((i) => [i.path, i.role]));
    return h(
      "section",
      { class: "step-images", dataset: { section: "images" } },
      h("h2", {}, "Images"),
      h(
        "div",
        { class: "image-grid" },
        state.product.images.map((key) =>
          h(
            "figure",
            { class: "product-image", dataset: { key } },
            h("div", { class: "frame" }, h("img", { src: `/media/${key}`, alt: key })),
            h(
              "button",
              { class: "chip role", dataset: { role: roles[key] || "" }, disabled: !ctx.canReview, title: "click: the next role", onclick: () => nextRole(key, roles[key]) },
              roles[key] || "unknown",
            ),
          ),
        ),
      ),
    );
  }

  async function nextRole(key, role) {
    const next = ROLES[(ROLES.indexOf(role) + 1) % ROLES.length];
    try {
      state.plan = { ...(await Api.fixRole(productId, key, next)), renders: state.renders };
      draw();
    } catch (error) {
      toast(`Could not change the role: ${error.message}`);
    }
  }

  function attributesSection() {
    const found = state.product.extraction?.attributes || {};
    const confirmed = state.product.attributes || {};
    const keys = [...new Set([...Object.keys(found), ...Object.keys(confirmed)])];
    return h(
      "section",
      { class: "step-attributes", dataset: { section: "attributes" } },
      h("h2", {}, "Attributes"),
      keys.length
        ? h(
            "table",
            { class: "attributes" },
            h("thead", {}, h("tr", {}, ["Attribute", "Value", "Confidence", "Evidence"].map((t) => h("th", {}, t)))),
            h(
              "tbody",
              {},
              keys.map((key) => {
                const item = found[key];
                const value = key in confirmed ? confirmed[key] : item?.value;
                return h(
                  "tr",
                  { dataset: { attribute: key }, onclick: () => item && showEvidence(item) },
                  h("td", {}, key),
                  h("td", {}, typeof value === "object" ? JSON.stringify(value) : String(value)),
                  h("td", { class: "num" }, item ? item.confidence.toFixed(2) : "confirmed"),
                  h("td", {}, item ? evidenceText(item) : "–"),
                );
              }),
            ),
          )
        : h("p", { class: "muted" }, "No attributes yet: extract them (POST /api/products/{id}/extract)."),
    );
  }

  function evidenceText(item) {
    const evidence = item.evidence?.mentions?.[0] || item.evidence || {};
    if (evidence.utterance) {
      const said = `${item.source}: “${evidence.utterance}” at ${clock(evidence.t0)}`;
      // The room's recording plays from the utterance's time (the replay page).
      return evidence.room
        ? h("a", { class: "play-evidence", href: `#/replay/${encodeURIComponent(evidence.room)}?t=${evidence.t0}`, onclick: (event) => event.stopPropagation() }, `▶ ${said}`)
        : said;
    }
    if (evidence.image) return `${item.source}: ${evidence.text || evidence.hex || ""} in ${evidence.image.split("/").pop()}`;
    return `${item.source}: ${evidence.text || ""}`;
  }

  // The evidence's region outlined on its photo.
  function showEvidence(item) {
    const evidence = item.evidence?.mentions?.find((m) => m.region) || item.evidence || {};
    for (const old of root.querySelectorAll(".evidence-box")) old.remove();
    if (!evidence.image || !evidence.region) return;
    const figure = root.querySelector(`figure.product-image[data-key="${CSS.escape(evidence.image)}"] .frame`);
    const img = figure?.querySelector("img");
    if (!img) return;
    let [x, y, w, hgt] = evidence.region;
    if (item.source === "ocr") {
      const scale = Math.min(1, OCR_SIDE / Math.max(img.naturalWidth, img.naturalHeight));
      const fitted = [img.naturalWidth * scale, img.naturalHeight * scale];
      [x, y, w, hgt] = [x / fitted[0], y / fitted[1], w / fitted[0], hgt / fitted[1]];
    }
    const pct = (v) => `${(v * 100).toFixed(2)}%`;
    figure.append(h("div", { class: "evidence-box", style: `left:${pct(x)};top:${pct(y)};width:${pct(w)};height:${pct(hgt)}` }));
  }

  function copySection() {
    const p = state.product;
    return h(
      "section",
      { class: "step-copy", dataset: { section: "copy" } },
      h("h2", {}, "Copy"),
      h("p", {}, h("strong", {}, p.title)),
      h("p", { class: "muted" }, p.description || "no description"),
      Object.entries(p.titles || {}).map(([platform, title]) => h("p", {}, h("span", { class: "chip" }, platform), " ", title)),
    );
  }

  function detailSection() {
    const plan = state.plan;
    const preview = state.renders.taobao?.preview_url;
    return h(
      "section",
      { class: "step-detail", dataset: { section: "detail" } },
      h("h2", {}, "Detail page ", plan.ready ? h("span", { class: "chip status-approved" }, "ready") : h("span", { class: "chip flag-review" }, `${plan.issues.length} to fix`)),
      h(
        "div",
        { class: "detail-actions" },
        PLATFORMS.map((p) => h("button", { disabled: !ctx.canReview, onclick: () => render([p]), dataset: { platform: p } }, `Render ${p}`, p === "taobao" ? h("kbd", {}, "r") : null)),
        h("button", { class: "approve", id: "confirm-detail", disabled: !ctx.canReview, onclick: confirmDetail }, "Confirm ", h("kbd", {}, "c")),
      ),
      plan.left_out.length ? h("p", { class: "muted" }, "Left out: ", plan.left_out.map((l) => `${l.page} (${l.reason})`).join("; ")) : null,
      h(
        "div",
        { class: "detail-layout" },
        h("ol", { class: "detail-pages" }, plan.pages.map((page, i) => pageItem(page, i))),
        preview ? h("img", { class: "detail-preview", src: `${preview}?v=${state.renders.taobao.seconds}`, alt: "detail preview" }) : h("p", { class: "muted" }, "Not rendered yet."),
      ),
    );
  }

  function pageItem(page, index) {
    const pageRender = state.renders.taobao?.page_renders?.[page.key];
    return h(
      "li",
      { class: `detail-page${index === state.current ? " current" : ""}`, dataset: { page: page.key }, onclick: () => setCurrent(index) },
      h("div", { class: "page-title" }, h("strong", {}, page.title), " ", h("code", {}, page.key)),
      page.slots.map((slot) => slotItem(page, slot)),
      pageRender?.preview_url ? h("img", { class: "page-preview", src: `${pageRender.preview_url}?v=${pageRender.seconds}`, alt: `${page.key} preview` }) : null,
    );
  }

  function slotItem(page, slot) {
    const body =
      slot.kind === "text"
        ? h("span", { class: "slot-text" }, slot.text || h("em", { class: "muted" }, slot.hint || "empty"))
        : slot.kind === "image"
          ? slot.image_url
            ? h("img", { class: "slot-image", src: slot.image_url, alt: slot.name })
            : h("em", { class: "muted" }, `add: ${slot.hint || slot.role}`)
          : h("span", { class: "muted" }, slot.kind);
    return h(
      "div",
      { class: `slot slot-${slot.status}`, dataset: { slot: slot.name, kind: slot.kind } },
      h("span", { class: "slot-name" }, slot.name),
      body,
      slot.kind === "text" && ctx.canReview ? h("button", { class: "quiet edit-slot", onclick: (event) => (event.stopPropagation(), editSlot(page, slot)) }, "Edit") : null,
      slot.notes.length ? h("div", { class: "error-text" }, slot.notes.join("; ")) : null,
    );
  }

  function editSlot(page, slot) {
    const row = root.querySelector(`li[data-page="${CSS.escape(page.key)}"] .slot[data-slot="${CSS.escape(slot.name)}"]`);
    const input = h("input", { class: "slot-input", value: slot.text, size: 40 });
    const save = async () => {
      input.disabled = true;
      try {
        const edited = await Api.editSlot(productId, page.key, slot.name, { text: input.value });
        state.plan = { ...edited.plan, renders: state.renders };
        for (const [platform, done] of Object.entries(edited.renders)) {
          const kept = state.renders[platform] || {};
          state.renders[platform] = { ...kept, page_renders: { ...(kept.page_renders || {}), [page.key]: done } };
        }
        draw();
        toast(`${page.key} re-rendered`, "info");
      } catch (error) {
        input.disabled = false;
        toast(`Could not save the slot: ${error.message}`);
      }
    };
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter") save();
      if (event.key === "Escape") draw();
    });
    row.querySelector(".slot-text").replaceWith(input);
    input.focus();
    input.select();
  }

  function exportSection() {
    const results = h("ul", { class: "export-results" });
    return h(
      "section",
      { class: "step-export", dataset: { section: "export" } },
      h("h2", {}, "Export"),
      PLATFORMS.map((p) => h("button", { disabled: !ctx.canReview, dataset: { platform: p }, onclick: () => exportTo(p, results) }, `Export ${p}`, p === "taobao" ? h("kbd", {}, "x") : null)),
      results,
    );
  }

  async function exportTo(platform, results) {
    try {
      const done = await Api.exportProduct(productId, platform);
      results.replaceChildren(...done.keys.map((key) => h("li", { dataset: { platform } }, h("a", { href: `/media/${key}`, target: "_blank" }, key))));
      toast(`Exported for ${platform}`, "info");
    } catch (error) {
      toast(`Could not export for ${platform}: ${error.message}`);
    }
  }

  async function render(platforms) {
    const buttons = root.querySelectorAll(".detail-actions button");
    buttons.forEach((b) => (b.disabled = true));
    try {
      const done = await Api.renderDetail(productId, platforms);
      for (const [platform, result] of Object.entries(done.renders)) state.renders[platform] = { ...result, page_renders: {} };
      const bad = Object.values(done.renders).flatMap((r) => r.violations);
      if (bad.length) toast(bad.join("; "));
      draw();
    } catch (error) {
      toast(`Could not render: ${error.message}`);
      buttons.forEach((b) => (b.disabled = false));
    }
  }

  async function approveStep() {
    try {
      state.product = await Api.confirmStep(productId, state.product.step, { action: "approve" });
      draw();
    } catch (error) {
      toast(`Could not approve: ${error.message}`);
    }
  }

  async function confirmDetail() {
    try {
      await Api.confirmDetail(productId);
      toast("Detail page confirmed: the brand's next page starts from it.", "info");
    } catch (error) {
      toast(`Could not confirm: ${error.message}`);
    }
  }

  async function removeCurrent() {
    const page = state.plan.pages[state.current];
    if (!page) return;
    try {
      state.plan = { ...(await Api.removePage(productId, page.key)), renders: state.renders };
      state.current = Math.min(state.current, state.plan.pages.length - 1);
      draw();
    } catch (error) {
      toast(`Could not remove the page: ${error.message}`);
    }
  }

  function setCurrent(index) {
    state.current = Math.max(0, Math.min(index, state.plan.pages.length - 1));
    for (const item of root.querySelectorAll("li.detail-page")) item.classList.toggle("current", item.dataset.page === state.plan.pages[state.current]?.key);
    root.querySelector("li.detail-page.current")?.scrollIntoView({ block: "nearest" });
  }

  function onKey(event) {
    if (!state.plan || isTyping(event)) return;
    const page = state.plan.pages[state.current];
    const actions = {
      j: () => setCurrent(state.current + 1),
      k: () => setCurrent(state.current - 1),
      a: () => ctx.canReview && state.product.step !== "ready" && approveStep(),
      e: () => {
        const slot = page?.slots.find((s) => s.kind === "text");
        if (ctx.canReview && slot) editSlot(page, slot);
      },
      d: () => ctx.canReview && removeCurrent(),
      r: () => ctx.canReview && render(["taobao"]),
      c: () => ctx.canReview && confirmDetail(),
      x: () => ctx.canReview && exportTo("taobao", root.querySelector(".export-results")),
    };
    if (actions[event.key]) {
      event.preventDefault();
      actions[event.key]();
    }
  }

  load();
  return () => {
    state.alive = false;
  };
}
