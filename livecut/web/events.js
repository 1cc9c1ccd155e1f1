// The live feed: one EventSource on /api/events for the whole page. Pages subscribe to
// "clip" and "room" (the changed object) and to "resync": the stream was down a while and
// events may have been missed, so re-read the lists. "state" reports "live", "offline" or
// "signed-out" (the session ended).

const listeners = { clip: new Set(), room: new Set(), resync: new Set(), state: new Set() };
const RETRY_MS = 3000;
let source = null;
let retryTimer = null;
let everOpened = false;

export function on(kind, handler) {
  listeners[kind].add(handler);
  return () => listeners[kind].delete(handler);
}

function emit(kind, value) {
  for (const handler of listeners[kind]) {
    try {
      handler(value);
    } catch (error) {
      console.error(`livecut: ${kind} handler failed`, error);
    }
  }
}

export function connectEvents() {
  if (source) return;
  source = new EventSource("/api/events");
  source.addEventListener("open", () => {
    emit("state", "live");
    if (everOpened) emit("resync");
    everOpened = true;
  });
  source.addEventListener("clip", (event) => emit("clip", JSON.parse(event.data)));
  source.addEventListener("room", (event) => emit("room", JSON.parse(event.data)));
  source.addEventListener("error", () => {
    emit("state", "offline");
    // The browser retries by itself unless the server answered with an error status (such as
    // 401 or 502): then the source is closed for good and we open a new one after a pause.
    if (source && source.readyState === EventSource.CLOSED) {
      source = null;
      clearTimeout(retryTimer);
      retryTimer = setTimeout(reconnectIfSignedIn, RETRY_MS);
    }
  });
}

// A stream refused because the session ended must not be retried forever: tell the page instead.
async function reconnectIfSignedIn() {
  try {
    const response = await fetch("/api/me", { credentials: "same-origin" });
    if (response.status === 401) {
      emit("state", "signed-out");
      return;
    }
  } catch {
    // livecut is unreachable: keep trying, the stream tells when it is back.
  }
  connectEvents();
}

export function disconnectEvents() {
  clearTimeout(retryTimer);
  if (source) source.close();
  source = null;
  everOpened = false;
  emit("state", "offline");
}
