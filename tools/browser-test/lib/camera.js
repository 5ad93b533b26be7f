// A test camera for headless Chromium, injected with page.addInitScript before
// any page script runs. It replaces navigator.mediaDevices.getUserMedia with a
// canvas stream that films a real face photo as a person would appear:
//
//  - the head is rendered with a perspective model of an ellipsoid (nose
//    closer to the camera than the cheeks), so coming closer changes the
//    face's proportions the way a real face does, against a room background
//    that does not move;
//  - it starts far away and off-centre (or, with start: 'near', close to the
//    camera with the face already filling the oval, as someone sitting close
//    to a laptop), moves back while the server says move_back, moves into the
//    oval the server asked for, and adjusts to the server's guidance (move
//    closer / too close); with stay: true it never moves (someone who does
//    not follow the instructions);
//  - while the SDK shows a colour full screen, the colour is read from the DOM
//    every frame and added to the face as reflected light: a gain of a few
//    percent per channel, strongest where the surface faces the screen.
//
// It knows the oval and the guidance only from the messages the server sends
// to the page (it listens on the page's WebSocket), like a person who looks
// at the screen. Config: window.__lvCamera = { photo, face, background,
// reflect, fps, start, stay, cameras, width, height } set by a preceding
// init script (width x height: 640x480, or 480x640 for a phone held
// upright, the same 60° field of view along the long side);
// cameras > 1 lists that many cameras (the SDK's picker), all filmed by the
// same test camera, and window.__lvCameraRequests records every
// getUserMedia call.
(() => {
  const cfg = window.__lvCamera;
  if (!cfg) return;

  const W = cfg.width || 640;
  const H = cfg.height || 480;
  const FOCAL = (554 / 640) * Math.max(W, H); // px, a 60° field of view along the long side
  // The ovals' size unit (docs/PROTOCOL.md): the long side of the frame's
  // largest 4:3 region in its own orientation.
  const OVAL_BASE = Math.min(Math.max(W, H), (Math.min(W, H) * 4) / 3);
  const FACE = cfg.face || { cx: 0, cy: 0, halfWidth: 120, halfHeight: 150 };
  const PX_PER_CM = FACE.halfWidth / 7.5; // photo pixels per cm of face (half width 7.5 cm)
  const A = 7.5; // cm, half width of the face ellipsoid
  const B = FACE.halfHeight / PX_PER_CM; // cm, half height
  const ZMAX = 9; // cm, nose tip in front of the ear plane

  // What the page's WebSocket hears from the server, and what the SDK sends;
  // reset by each new capture connection (the demo page runs several).
  const seen = {};
  const resetSeen = () => Object.assign(seen, {
    oval: null, challenge: null, colors: 0, guidance: '', guidanceLog: [], needMax: 0, inOval: false, flash: false, result: null, error: null,
    sent: { frames: 0, badFrames: 0, maxBytes: 0, firstAt: null, lastAt: null, texts: [] },
  });
  resetSeen();
  const NativeWS = window.WebSocket;
  class ObservedWebSocket extends NativeWS {
    send(data) {
      if (typeof data === 'string') {
        try { seen.sent.texts.push(JSON.parse(data)); } catch { seen.sent.texts.push(data); }
      } else {
        const u8 = new Uint8Array(data instanceof ArrayBuffer ? data : data.buffer);
        const at = new DataView(u8.buffer, u8.byteOffset).getFloat64(0, true);
        const jpeg = u8.length > 10 && u8[8] === 0xff && u8[9] === 0xd8;
        if (!jpeg || !(at >= 0)) seen.sent.badFrames++;
        seen.sent.frames++;
        seen.sent.maxBytes = Math.max(seen.sent.maxBytes, u8.length - 8);
        if (seen.sent.firstAt === null) seen.sent.firstAt = at;
        // Debugging aid: set window.__lvRecord = [] to keep every frame sent.
        if (window.__lvRecord) window.__lvRecord.push({ at, jpeg: u8.slice(8) });
        seen.sent.lastAt = at;
      }
      return super.send(data);
    }

    constructor(...args) {
      super(...args);
      resetSeen();
      this.addEventListener('message', (ev) => {
        if (typeof ev.data !== 'string') return;
        try {
          const m = JSON.parse(ev.data);
          if (m.type === 'challenge') { seen.oval = m.oval; seen.colors = (m.colors || []).length; seen.challenge = m; }
          if (m.type === 'guidance') {
            seen.guidance = m.code; seen.inOval = !!m.inOval; seen.guidanceLog.push(m.code);
            seen.needMax = Math.max(seen.needMax, Number(m.need) || 0);
          }
          if (m.type === 'flash') seen.flash = true;
          if (m.type === 'result') seen.result = m.status;
          if (m.type === 'error') seen.error = m;
        } catch { /* not JSON */ }
      });
    }
  }
  window.WebSocket = ObservedWebSocket;
  window.__lvCameraSeen = seen;
  // Chromium's own camera plays the video (the replay test): observe only.
  if (cfg.observeOnly) return;

  function load(src) {
    return new Promise((resolve, reject) => {
      const img = new Image();
      img.onload = () => resolve(img);
      img.onerror = () => reject(new Error('test camera: image failed to load'));
      img.src = src;
    });
  }

  function pixels(img, w, h) {  // RGBA of img scaled to w x h
    const c = document.createElement('canvas');
    c.width = w;
    c.height = h;
    const x = c.getContext('2d', { willReadFrequently: true });
    x.drawImage(img, 0, 0, w, h);
    return x.getImageData(0, 0, w, h);
  }

  // The colour the SDK is showing full screen right now, or null.
  function screenColor() {
    const host = document.querySelector('[data-livenessd]');
    const el = host && host.shadowRoot && host.shadowRoot.querySelector('.lv-flash.lv-flash-on');
    if (!el) return null;
    const m = /rgba?\((\d+),\s*(\d+),\s*(\d+)/.exec(getComputedStyle(el).backgroundColor);
    return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : null;
  }

  async function makeStream() {
    const photo = await load(cfg.photo);
    const bgImg = await load(cfg.background);
    const src = pixels(photo, photo.naturalWidth, photo.naturalHeight);
    const sw = src.width;
    const sh = src.height;
    const sd = src.data;
    const fcx = FACE.cx;
    const fcy = FACE.cy;
    const canvas = document.createElement('canvas');
    canvas.width = W;
    canvas.height = H;
    const ctx = canvas.getContext('2d');
    // The head layer: the warped head with its mask as alpha, centred on
    // the face centre. It is redrawn only when the distance changes, so
    // holding still (the colour phase) costs a few canvas draws per frame
    // and leaves the page's main thread to the SDK.
    const head = document.createElement('canvas');
    const hctx = head.getContext('2d');
    const tint = document.createElement('canvas');
    const tctx = tint.getContext('2d');
    // How much each head pixel faces the screen (alpha = n·l of the
    // ellipsoid at that pixel), rendered with the head.
    const shade = document.createElement('canvas');
    const sctx = shade.getContext('2d');
    let headD = -1;

    function renderHead(D) {
      const s = FOCAL / D; // output px per cm at the ear plane
      const rho = ZMAX / D;
      // The head is an ellipsoid; in coordinates normalised by its half
      // axes it is the unit sphere, so the perspective is radial: a source
      // point at radius r (depth rho*sqrt(1-r^2) closer to the camera)
      // lands at r / (1 - rho*sqrt(1-r^2)). Tabulate the inverse.
      const N = 256;
      const rOut = new Float32Array(N + 1);
      for (let i = 0; i <= N; i++) {
        const r = i / N;
        rOut[i] = r / (1 - rho * Math.sqrt(Math.max(0, 1 - r * r)));
      }
      const M = 512;
      const rMaxOut = rOut[N];
      const inv = new Float32Array(M + 1); // r_out -> r_src / r_out
      for (let j = 0, i = 0; j <= M; j++) {
        const ro = (j / M) * rMaxOut;
        while (i < N && rOut[i + 1] < ro) i++;
        const span = rOut[i + 1] - rOut[i] || 1;
        const rs = Math.min(1, (i + (ro - rOut[i]) / span) / N);
        inv[j] = ro > 0 ? rs / ro : 1 - rho;
      }
      const sa = s * A;
      const sb = s * B;
      const pa = A * PX_PER_CM;
      const pb = B * PX_PER_CM;
      // Head mask (face and hair) in normalised coordinates: an ellipse of
      // half axes 1.45 x 1.6, 0.15 higher than the face, feathered.
      const hw = Math.ceil(1.45 * sa) + 1;
      const top = Math.ceil(1.75 * sb) + 1;
      const bottom = Math.ceil(1.45 * sb) + 1;
      head.width = 2 * hw;
      head.height = top + bottom;
      tint.width = head.width;
      tint.height = head.height;
      shade.width = head.width;
      shade.height = head.height;
      const img = hctx.createImageData(head.width, head.height);
      const od = img.data;
      const simg = sctx.createImageData(head.width, head.height);
      const shd = simg.data;
      for (let y = 0; y < head.height; y++) {
        const yn = (y - top) / sb;
        const my = (yn + 0.15) / 1.6;
        const rem = 1 - my * my;
        if (rem <= 0) continue;
        const half = 1.45 * Math.sqrt(rem) * sa;
        const x0 = Math.max(0, Math.floor(hw - half));
        const x1 = Math.min(head.width - 1, Math.ceil(hw + half));
        for (let x = x0; x <= x1; x++) {
          const xn = (x - hw) / sa;
          const mx = xn / 1.45;
          const m = mx * mx + my * my;
          if (m >= 1) continue;
          const ro = Math.sqrt(xn * xn + yn * yn);
          const f = ro < rMaxOut ? inv[Math.round((ro / rMaxOut) * M)] : 1;
          const u = fcx + xn * f * pa;
          const v = fcy + yn * f * pb;
          if (u < 0 || v < 0 || u >= sw - 1 || v >= sh - 1) continue;
          const iu = u | 0;
          const iv = v | 0;
          const fu = u - iu;
          const fv = v - iv;
          const p = (iv * sw + iu) * 4;
          const q = p + sw * 4;
          const o = (y * head.width + x) * 4;
          const w00 = (1 - fu) * (1 - fv);
          const w01 = fu * (1 - fv);
          const w10 = (1 - fu) * fv;
          const w11 = fu * fv;
          od[o] = sd[p] * w00 + sd[p + 4] * w01 + sd[q] * w10 + sd[q + 4] * w11;
          od[o + 1] = sd[p + 1] * w00 + sd[p + 5] * w01 + sd[q + 1] * w10 + sd[q + 5] * w11;
          od[o + 2] = sd[p + 2] * w00 + sd[p + 6] * w01 + sd[q + 2] * w10 + sd[q + 6] * w11;
          od[o + 3] = 255 * (m > 0.8 ? (1 - m) / 0.2 : 1);
          // The screen sits by the camera, so the light comes along the
          // view axis: n·l of the ellipsoid (half axes A, B, ZMAX) at the
          // source point, 0 beyond the face's outline (hair, ears).
          const xs = xn * f;
          const ys = yn * f;
          const r2 = xs * xs + ys * ys;
          if (r2 < 1) {
            const zs = Math.sqrt(1 - r2);
            const nx = xs / A;
            const ny = ys / B;
            const nz = zs / ZMAX;
            shd[o + 3] = 255 * (nz / Math.sqrt(nx * nx + ny * ny + nz * nz));
          }
        }
      }
      hctx.putImageData(img, 0, 0);
      sctx.putImageData(simg, 0, 0);
      headD = D;
      return { hw, top };
    }

    // Pose: distance D (cm) and the face centre in the frame (px). Near: 30
    // cm, the face already as wide as the oval (or wider).
    const pose = cfg.start === 'near' ? { D: 30, x: W * 0.5, y: H * 0.5 } : { D: 105, x: W * 0.6, y: H * 0.42 };
    const started = performance.now();
    let last = started;
    let layout = renderHead(pose.D);

    function target() {
      const o = seen.oval || { centerX: 0.5, centerY: 0.45, width: 0.4, height: 0.6 };
      // Fill the oval: face height (forehead to chin) about 80% of its height.
      const faceH = 0.8 * o.height * OVAL_BASE * 0.75;
      return { D: (FOCAL * 2 * B) / faceH, x: o.centerX * W, y: o.centerY * H };
    }

    let bias = 0; // cm, learnt from the server's guidance
    let guidedAt = 0;
    function step(now) {
      const dt = Math.min(0.1, (now - last) / 1000);
      last = now;
      const t = (now - started) / 1000;
      // Stand still, far away, until the server has seen the face (its first
      // guidance) and a moment has passed to read the instruction: the
      // capture then starts with the face small, as a person's does.
      if (!seen.oval || !seen.guidanceLog.length || cfg.stay) return;
      if (!guidedAt) guidedAt = now;
      if (now - guidedAt < 700) return;
      // Told to move back (the face does not fit the start oval): lean back,
      // about 20 cm/s, until the server says something else.
      if (seen.guidance === 'move_back' && !seen.flash) {
        pose.D = Math.min(120, pose.D + 20 * dt);
        return;
      }
      if (!seen.flash) {
        if (seen.guidance === 'move_closer') bias -= 4 * dt;
        if (seen.guidance === 'too_close') bias += 4 * dt;
        bias = Math.max(-15, Math.min(15, bias));
      }
      // Holding still for the colours: the distance stays put (re-rendering
      // the head would also take the page's main thread from the SDK).
      if (seen.flash) return;
      const tg = target();
      const k = Math.min(1, dt * 1.6); // approach over about two seconds
      pose.D += (tg.D + bias - pose.D) * k;
      pose.x += (tg.x - pose.x) * k;
      pose.y += (tg.y - pose.y) * k;
    }

    function render(now) {
      step(now);
      const t = (now - started) / 1000;
      if (Math.abs(pose.D - headD) > 0.25) layout = renderHead(pose.D);
      // A living head is never perfectly still.
      const cx = pose.x + 1.2 * Math.sin(t * 2.3);
      const cy = pose.y + 0.8 * Math.sin(t * 1.9 + 1);
      const hx = Math.round(cx - layout.hw);
      const hy = Math.round(cy - layout.top);
      // The camera sees a colour only once the screen shows it and the
      // sensor has integrated it: the DOM changes a frame before the
      // screen does, and exposure adds another. Use what was on the page
      // LATENCY ms ago.
      seenColors.push({ t: now, col: screenColor() });
      while (seenColors.length > 2 && seenColors[1].t <= now - LATENCY) seenColors.shift();
      const col = seenColors[0].t <= now - LATENCY ? seenColors[0].col : null;
      // Redraw only what changed.
      const key = `${hx},${hy},${headD},${col}`;
      if (key === lastKey) {
        // Unchanged: one pixel of sensor noise keeps the canvas producing
        // frames at the camera's rate, at no cost.
        noise = !noise;
        ctx.fillStyle = noise ? 'rgba(255,255,255,0.02)' : 'rgba(0,0,0,0.02)';
        ctx.fillRect(W - 1, H - 1, 1, 1);
        return;
      }
      lastKey = key;
      ctx.globalCompositeOperation = 'source-over';
      ctx.globalAlpha = 1;
      ctx.drawImage(bgImg, 0, 0, W, H);
      ctx.drawImage(head, hx, hy);
      if (col && cfg.reflect > 0) {
        // Reflected screen light adds gain * shade * skin * colour: the
        // head tinted by the colour (multiply), kept inside the head
        // (destination-in), weighted by how much the surface faces the
        // screen (the n·l map, destination-in), then added (lighter).
        tctx.globalCompositeOperation = 'copy';
        tctx.drawImage(head, 0, 0);
        tctx.globalCompositeOperation = 'multiply';
        tctx.fillStyle = `rgb(${col[0]}, ${col[1]}, ${col[2]})`;
        tctx.fillRect(0, 0, tint.width, tint.height);
        tctx.globalCompositeOperation = 'destination-in';
        tctx.drawImage(head, 0, 0);
        tctx.drawImage(shade, 0, 0);
        ctx.globalCompositeOperation = 'lighter';
        ctx.globalAlpha = Math.min(1, cfg.reflect);
        ctx.drawImage(tint, hx, hy);
        ctx.globalCompositeOperation = 'source-over';
        ctx.globalAlpha = 1;
      }
      window.__lvCameraState = { D: pose.D, cx, cy, color: col, guidance: seen.guidance, renders: (window.__lvCameraState?.renders || 0) + 1 };
    }

    let lastKey = '';
    let noise = false;
    const LATENCY = 40; // ms: one display frame plus part of an exposure
    const seenColors = [];
    render(performance.now());
    const fps = cfg.fps || 30;
    window.__lvCameraCanvas = canvas; // debugging aid
    const stream = canvas.captureStream(fps);
    const track = stream.getVideoTracks()[0];
    const timer = setInterval(() => render(performance.now()), 1000 / fps);
    const stop = track.stop.bind(track);
    track.stop = () => { clearInterval(timer); stop(); };
    return stream;
  }

  if (!navigator.mediaDevices) return;
  const cameras = Math.max(1, cfg.cameras || 1);
  const deviceId = (i) => `test-camera-${i + 1}`;
  window.__lvCameraRequests = [];
  let base = null;
  navigator.mediaDevices.getUserMedia = async (constraints) => {
    if (!constraints || !constraints.video) throw new DOMException('video required', 'TypeError');
    window.__lvCameraRequests.push(JSON.parse(JSON.stringify(constraints)));
    const want = constraints.video.deviceId && constraints.video.deviceId.exact;
    if (want && ![...Array(cameras).keys()].some((i) => deviceId(i) === want)) throw new DOMException('no such camera', 'OverconstrainedError');
    // Every camera films the same scene: the first stream's canvas.
    if (!base) base = await makeStream();
    const stream = base.clone ? base.clone() : base;
    const track = stream.getVideoTracks()[0];
    const id = want || deviceId(0);
    const settings = track.getSettings.bind(track);
    track.getSettings = () => ({ ...settings(), deviceId: id });
    return stream;
  };
  if (cameras > 1) {
    navigator.mediaDevices.enumerateDevices = async () => [...Array(cameras).keys()].map((i) => (
      { deviceId: deviceId(i), groupId: 'test', kind: 'videoinput', label: `Test camera ${i + 1}`, toJSON() { return this; } }));
  }
})();
