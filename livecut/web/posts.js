// Posts: the accounts clips are posted to (pause, resume, connect, add) and the planned and sent
// posts with their attempts and errors (cancel, retry, mark a hand-off package posted). Clips are
// scheduled from the queue (Schedule, s). Credentials are write-only: the page never shows them.
import { Api } from "./api.js";
import { h } from "./dom.js";
import { toast } from "./toast.js";

const PLATFORMS = ["douyin", "kuaishou", "tiktok", "youtube", "webhook", "xiaohongshu", "taobao", "jd"];
const POST_STATUSES = ["planned", "posting", "retry_wait", "waiting_reauth", "paused", "handed_off", "posted", "failed", "uncertain", "refused_duplicate", "cancelled"];
const CANCELLABLE = new Set(["planned", "retry_wait", "waiting_reauth", "paused"]);
const RETRYABLE = new Set(["failed", "refused_duplicate", "uncertain"]);
const REFRESH_MS = 10000;

function when(seconds) {
  return seconds ? new Date(seconds * 1000).toLocaleString() : "–";
}

export function mountPosts(view, ctx) {
  const isAdmin = ctx.user?.role === "admin";
  const accountRows = h("tbody");
  const postRows = h("tbody");
  const statusFilter = h("select", { name: "status", onchange: loadPosts }, h("option", { value: "" }, "all"), ...POST_STATUSES.map((s) => h("option", { value: s }, s)));
  view.append(
    h(
      "section",
      { class: "posts-page" },
      h("h1", {}, "Accounts"),
      isAdmin ? accountForm() : null,
      h("table", { class: "accounts" }, h("thead", {}, h("tr", {}, ["Account", "Platform", "Group", "Windows", "Cap", "Status", "Credentials", ""].map((t) => h("th", {}, t)))), accountRows),
      h("h1", {}, "Posts"),
      h("label", {}, "Status ", statusFilter),
      h("table", { class: "posts" }, h("thead", {}, h("tr", {}, ["When", "Account", "Clip", "Status", "Attempts", "Platform id / reason", ""].map((t) => h("th", {}, t)))), postRows),
    ),
  );

  function accountForm() {
    const field = (name, props = {}) => h("input", { name, ...props });
    const platform = h("select", { name: "platform" }, ...PLATFORMS.map((p) => h("option", { value: p }, p)));
    const inputs = {
      account_id: field("account_id", { required: true, maxlength: 64, pattern: "[\\w][\\w.\\-]*", placeholder: "id" }),
      display_name: field("display_name", { required: true, maxlength: 200, placeholder: "name" }),
      group: field("group", { maxlength: 64, placeholder: "group" }),
      windows: field("windows", { value: "08:00-23:00", placeholder: "09:00-12:00, 19:00-23:00" }),
      timezone: field("timezone", { value: "Asia/Shanghai" }),
      open_id: field("open_id", { placeholder: "Douyin open_id / webhook url" }),
    };
    const submit = h("button", { type: "submit", class: "primary" }, "Add account");
    const form = h("form", { class: "create-account", onsubmit: add }, platform, Object.values(inputs), submit);
    async function add(event) {
      event.preventDefault();
      const extraKey = platform.value === "webhook" ? "url" : "open_id";
      const body = {
        account_id: inputs.account_id.value.trim(),
        platform: platform.value,
        display_name: inputs.display_name.value.trim(),
        group: inputs.group.value.trim(),
        windows: inputs.windows.value.split(",").map((w) => w.trim()).filter(Boolean),
        timezone: inputs.timezone.value.trim(),
        extra: inputs.open_id.value.trim() ? { [extraKey]: inputs.open_id.value.trim() } : {},
      };
      submit.disabled = true;
      try {
        await Api.createAccount(body);
        toast(`Account ${body.account_id} added: connect it to post.`, "info");
        form.reset();
        loadAccounts();
      } catch (error) {
        toast(`Could not add the account: ${error.message}`);
      } finally {
        submit.disabled = false;
      }
    }
    return form;
  }

  async function act(what, call, reload) {
    try {
      await call();
      reload();
    } catch (error) {
      toast(`Could not ${what}: ${error.message}`);
    }
  }

  function connectForm(account, cell) {
    const access = h("input", { type: "password", required: true, placeholder: "access token", autocomplete: "off" });
    const refresh = h("input", { type: "password", placeholder: "refresh token", autocomplete: "off" });
    const expires = h("input", { type: "number", min: 0, placeholder: "expires in (s)" });
    const form = h(
      "form",
      {
        class: "connect",
        onsubmit: (event) => {
          event.preventDefault();
          const body = { access_token: access.value, refresh_token: refresh.value, expires_in: Number(expires.value || 0) };
          act("connect the account", () => Api.setCredentials(account.account_id, body), loadAccounts);
        },
      },
      access,
      refresh,
      expires,
      h("button", { type: "submit", class: "primary" }, "Save"),
    );
    cell.replaceChildren(form);
    access.focus();
  }

  function accountRow(account) {
    const actions = h("td", { class: "actions" });
    if (ctx.canReview && account.status === "active") actions.append(h("button", { type: "button", onclick: () => act("pause the account", () => Api.pauseAccount(account.account_id), reloadAll) }, "Pause"));
    if (ctx.canReview && account.status === "paused") actions.append(h("button", { type: "button", onclick: () => act("resume the account", () => Api.resumeAccount(account.account_id), reloadAll) }, "Resume"));
    if (isAdmin) actions.append(h("button", { type: "button", class: "quiet", onclick: () => connectForm(account, actions) }, account.has_credentials ? "Reconnect" : "Connect"));
    return h(
      "tr",
      { dataset: { accountId: account.account_id, status: account.status } },
      h("td", {}, account.display_name, h("div", { class: "muted" }, account.account_id)),
      h("td", {}, account.platform),
      h("td", {}, account.group || "–"),
      h("td", {}, account.windows.join(", "), h("div", { class: "muted" }, account.timezone)),
      h("td", { class: "num" }, String(account.daily_cap)),
      h("td", {}, h("span", { class: `chip account-${account.status}` }, account.status)),
      h("td", {}, account.has_credentials ? "connected" : "none"),
      actions,
    );
  }

  function postRow(post) {
    const actions = h("td", { class: "actions" });
    if (ctx.canReview && CANCELLABLE.has(post.status)) {
      actions.append(h("button", { type: "button", class: "reject", onclick: () => act("cancel the post", () => Api.cancelPost(post.post_id), loadPosts) }, "Cancel"));
    }
    if (ctx.canReview && RETRYABLE.has(post.status)) {
      const override = post.status === "refused_duplicate";
      const label = override ? "Post anyway" : "Retry";
      actions.append(h("button", { type: "button", onclick: () => confirm(`${label}: send post ${post.post_id} again now?`) && act("retry the post", () => Api.retryPost(post.post_id, override), loadPosts) }, label));
    }
    if (ctx.canReview && post.status === "handed_off") {
      const mark = () => {
        const url = prompt("Where was it posted? (URL)");
        if (url !== null) act("mark the post posted", () => Api.markPosted(post.post_id, url.trim()), loadPosts);
      };
      actions.append(h("button", { type: "button", class: "approve", onclick: mark }, "Mark posted"));
    }
    const attempts = post.attempt_log.map((a) => `#${a.attempt} ${a.status}${a.platform_code ? ` (${a.platform_code})` : ""}${a.reason ? `: ${a.reason}` : ""}`);
    const detail = post.url ? h("a", { href: post.url, target: "_blank", rel: "noopener" }, post.platform_id || post.url) : post.platform_id || "";
    return h(
      "tr",
      { dataset: { postId: post.post_id, status: post.status } },
      h("td", {}, when(post.at), post.retry_at ? h("div", { class: "muted" }, `retry ${when(post.retry_at)}`) : null),
      h("td", {}, post.account_id),
      h("td", {}, post.clip_id, post.caption?.title ? h("div", { class: "muted" }, post.caption.title) : null),
      h("td", {}, h("span", { class: `chip post-${post.status}` }, post.status)),
      h("td", { class: "num", title: attempts.join("\n") }, String(post.attempts)),
      h("td", {}, detail, post.reason ? h("div", { class: "error-text" }, post.reason) : null),
      actions,
    );
  }

  async function loadAccounts() {
    try {
      accountRows.replaceChildren(...(await Api.accounts()).map(accountRow));
    } catch (error) {
      toast(`Could not load accounts: ${error.message}`);
    }
  }

  async function loadPosts() {
    try {
      postRows.replaceChildren(...(await Api.posts({ status: statusFilter.value })).map(postRow));
    } catch (error) {
      toast(`Could not load posts: ${error.message}`);
    }
  }

  function reloadAll() {
    loadAccounts();
    loadPosts();
  }

  reloadAll();
  // Posts change on the workers (sent, retried, failed): the page looks again every few seconds.
  const timer = setInterval(loadPosts, REFRESH_MS);
  return () => clearInterval(timer);
}
