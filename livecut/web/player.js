// Plays a room's recording (an HLS playlist of its fragments) in a <video>. Chromium has no
// native HLS, so hls.js (installed by `npm ci` into node_modules/, served by the static mount)
// feeds the fragments through Media Source Extensions.

const HLS_MODULE = "/node_modules/hls.js/dist/hls.min.mjs";
let hlsModule = null;

async function loadHls() {
  if (!hlsModule) hlsModule = import(HLS_MODULE).then((module) => module.default);
  return hlsModule;
}

/**
 * Starts `url` in `video` at `startPosition` seconds of the room's timeline.
 * Returns a function that releases the player (call it when the view goes away).
 */
export async function playHls(video, url, { startPosition = 0, onError = () => {} } = {}) {
  let Hls = null;
  try {
    Hls = await loadHls();
  } catch (error) {
    console.warn("livecut: hls.js is missing (run the install step), trying native HLS", error);
  }
  if (Hls && Hls.isSupported()) {
    const hls = new Hls({ startPosition, enableWorker: true, lowLatencyMode: false });
    hls.on(Hls.Events.ERROR, (_event, data) => {
      if (data.fatal) onError(`replay failed: ${data.details}`);
    });
    hls.loadSource(url);
    hls.attachMedia(video);
    return () => hls.destroy();
  }
  if (video.canPlayType("application/vnd.apple.mpegurl")) {
    video.src = url;
    video.addEventListener("loadedmetadata", () => (video.currentTime = startPosition), { once: true });
    return () => video.removeAttribute("src");
  }
  onError("this browser cannot play the room's recording (no hls.js, no native HLS)");
  return () => {};
}
