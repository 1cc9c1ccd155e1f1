// The operator web page: session, hash routes and the header. Pages live in their own modules
// and are mounted into <main id="view">; each returns a function that unmounts it.
//   #/login            log in
//   #/queue?room=&...  the clip queue (filters in the query, so a reload keeps them)
//   #/rooms            rooms: status, RTMP URL and stream key, create, stop
//   #/replay/<room>    a room's recording with its transcript; clips from any range
//   #/posts            accounts clips are posted to, and the planned and sent posts
//   #/products         the tenant's products; #/products/<id> one walked step by step to its export
import { Api, whenUnauthorized } from "./api.js";
import { h } from "./dom.js";
import { connectEvents, disconnectEvents, on } from "./events.js";
import { mountPosts } from "./posts.js";
import { mountProduct, mountProducts } from "./products.js";
import { mountQueue } from "./queue.js";
import { mountReplay } from "./replay.js";
import { mountRooms } from "./rooms.js";
import { toast } from "./toast.js";

const REVIEW_ROLES = new Set(["operator", "admin"]);
const HOME = "#/queue";

const session = { user: null, afterLogin: HOME };
let unmountPage = () => {};
let pageKeys = null; // the mounted page's keydown handler

const view = document.getElementById("view");
const header = document.getElementById("header");

function context(params) {
  return {
    user: session.user,
    // Viewers read only: pages disable every control that changes something.
    canReview: REVIEW_ROLES.has(session.user?.role),
    params,
    setKeys: (handler) => (pageKeys = handler),
  };
}

function route() {
  const hash = location.hash || HOME;
  const [path, search = ""] = hash.slice(1).split("?");
  if (!session.user && path !== "/login") {
    session.afterLogin = hash;
    location.replace("#/login");
    return;
  }
  unmountPage();
  pageKeys = null;
  view.replaceChildren();
  renderHeader(path);
  const params = new URLSearchParams(search);
  const replay = path.match(/^\/replay\/([^/]+)$/);
  const product = path.match(/^\/products\/([^/]+)$/);
  if (path === "/login") unmountPage = mountLogin(view);
  else if (path === "/rooms") unmountPage = mountRooms(view, context(params));
  else if (path === "/queue") unmountPage = mountQueue(view, context(params));
  else if (path === "/posts") unmountPage = mountPosts(view, context(params));
  else if (path === "/products") unmountPage = mountProducts(view, context(params));
  else if (product) unmountPage = mountProduct(view, context(params), decodeURIComponent(product[1]));
  else if (replay) unmountPage = mountReplay(view, context(params), decodeURIComponent(replay[1]));
  else location.replace(HOME);
}

function renderHeader(path) {
  header.hidden = path === "/login";
  if (header.hidden) return;
  const link = (href, text, active) => h("a", { href, class: active ? "active" : "" }, text);
  const liveDot = h("span", { class: "live-dot", id: "live-state", title: "live updates" }, "connecting");
  header.replaceChildren(
    h("span", { class: "brand" }, "livecut"),
    h(
      "nav",
      {},
      link("#/queue", "Queue", path === "/queue"),
      link("#/rooms", "Rooms", path === "/rooms" || path.startsWith("/replay")),
      link("#/posts", "Posts", path === "/posts"),
      link("#/products", "Products", path.startsWith("/products")),
    ),
    h("span", { class: "spacer" }),
    liveDot,
    h("span", { class: "who", id: "who" }, `${session.user.username} · ${session.user.role}`),
    h("button", { class: "quiet", onclick: showHelp, title: "keyboard shortcuts (?)" }, "?"),
    h("button", { class: "quiet", id: "logout", onclick: logout }, "Log out"),
  );
  showLiveState(lastLiveState);
}

let lastLiveState = "offline";
function showLiveState(state) {
  lastLiveState = state;
  const dot = document.getElementById("live-state");
  if (!dot) return;
  dot.dataset.state = state;
  dot.textContent = state === "live" ? "live" : "reconnecting…";
}

function mountLogin(container) {
  const username = h("input", { name: "username", autocomplete: "username", required: true, autofocus: true });
  const password = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const message = h("p", { class: "form-error", role: "alert" });
  const submit = h("button", { type: "submit", class: "primary" }, "Log in");
  const form = h(
    "form",
    { class: "login", onsubmit: (event) => logIn(event) },
    h("h1", {}, "livecut"),
    h("p", { class: "muted" }, "Live-commerce clips · 直播切片"),
    h("label", {}, "Username", username),
    h("label", {}, "Password", password),
    message,
    submit,
  );
  async function logIn(event) {
    event.preventDefault();
    submit.disabled = true;
    message.textContent = "";
    try {
      session.user = await Api.login(username.value.trim(), password.value);
      connectEvents();
      const next = session.afterLogin && !session.afterLogin.startsWith("#/login") ? session.afterLogin : HOME;
      session.afterLogin = HOME;
      location.hash = next;
    } catch (error) {
      message.textContent = error.status === 401 ? "Wrong username or password." : error.message;
      password.select();
    } finally {
      submit.disabled = false;
    }
  }
  container.append(form);
  username.focus();
  return () => {};
}

async function logout() {
  try {
    await Api.logout();
  } catch (error) {
    toast(error.message);
  }
  endSession();
}

function endSession() {
  session.user = null;
  disconnectEvents();
  location.hash = "#/login";
}

const SHORTCUTS = [
  ["Queue", ""],
  ["j / k", "next / previous clip"],
  ["space", "play / pause the clip"],
  ["a", "approve"],
  ["r", "reject"],
  ["l", "relabel"],
  ["t", "trim (re-render from the recording)"],
  ["x", "select for bulk"],
  ["shift+A / shift+R", "approve / reject the selected"],
  ["o", "open the clip in its room's replay"],
  ["s", "approve and schedule the clip to an account group"],
  ["Product", ""],
  ["j / k", "next / previous detail page"],
  ["a", "approve the product's current step"],
  ["e", "edit the page's first text slot (enter saves; only that page re-renders)"],
  ["d / r / c / x", "remove the page / render / confirm the detail page / export"],
  ["Trim and replay", ""],
  ["[ / ]", "set in / out at the playhead"],
  ["enter", "re-render the trimmed clip"],
  ["c", "make a clip of the range (replay)"],
  ["esc", "close the panel"],
];

function showHelp() {
  const existing = document.getElementById("help");
  if (existing) {
    existing.remove();
    return;
  }
  const rows = SHORTCUTS.map(([keys, what]) =>
    what ? h("tr", {}, h("td", {}, h("kbd", {}, keys)), h("td", {}, what)) : h("tr", {}, h("th", { colspan: 2 }, keys)),
  );
  const dialog = h(
    "div",
    { id: "help", class: "overlay", onclick: (event) => event.target.id === "help" && dialog.remove() },
    h("div", { class: "panel" }, h("h2", {}, "Keyboard shortcuts"), h("table", {}, rows), h("p", { class: "muted" }, "? or esc closes this")),
  );
  document.body.append(dialog);
}

function onKey(event) {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const help = document.getElementById("help");
  if (help && (event.key === "Escape" || event.key === "?")) {
    help.remove();
    return;
  }
  if (event.key === "?" && session.user && !event.target.closest?.("input, textarea")) {
    showHelp();
    return;
  }
  if (pageKeys) pageKeys(event);
}

// The session ended outside this page (expired, password changed, logged out in another tab).
function signedOutElsewhere() {
  if (!session.user) return;
  toast("Your session has ended: log in again.", "info");
  session.afterLogin = location.hash;
  endSession();
}

async function boot() {
  whenUnauthorized(signedOutElsewhere);
  on("state", (state) => {
    if (state === "signed-out") signedOutElsewhere();
    else showLiveState(state);
  });
  try {
    session.user = await Api.me();
    connectEvents();
  } catch (error) {
    if (error.status !== 401) toast(error.message);
  }
  document.addEventListener("keydown", onKey);
  window.addEventListener("hashchange", route);
  route();
}

boot();
