// The answering test camera, injected into the page before any script runs
// (playwright addInitScript with an argument {faceUrl, src}). It replaces
// getUserMedia with a canvas stream that draws a real face photo and
// behaves like a person in front of a screen:
//  - it starts far from the camera, then moves closer and towards the oval
//    while the component says "Move closer" (it reads the hints the
//    component shows, as a person does; the oval's position comes from the
//    server's ServerSessionInformationEvent, which a person sees as the
//    drawn oval);
//  - coming closer, the central features grow a little more than the
//    contour, as a 3-D face seen from 50 then 30 cm;
//  - it adds the colour the component is showing on screen to the face as
//    reflected light, stronger where the face faces the screen.
// The component itself is not touched: only navigator.mediaDevices and a
// listener on the page's WebSocket messages.
(cfg) => {
  const W = 640;
  const H = 480;
  const state = { oval: null, phase: 'far', light: [0, 0, 0], frames: 0, hint: '' };
  window.__camera = state;

  // Learn the oval from the server's first event (event-stream framing:
  // 12-byte prelude, headers, JSON payload, 4-byte CRC).
  const NativeWebSocket = window.WebSocket;
  window.WebSocket = class extends NativeWebSocket {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (ev) => {
        try {
          if (!(ev.data instanceof ArrayBuffer)) return;
          const dv = new DataView(ev.data);
          const total = dv.getUint32(0);
          const hl = dv.getUint32(4);
          const body = new TextDecoder().decode(new Uint8Array(ev.data, 12 + hl, total - hl - 16));
          const info = JSON.parse(body).SessionInformation;
          if (info) {
            const ch = Object.values(info.Challenge)[0];
            state.oval = ch.OvalParameters;
          }
        } catch (e) {
          /* not an event we read */
        }
      });
    }
  };

  const img = new Image();
  img.src = cfg.faceUrl;
  const src = cfg.src; // {x, y, w, h}: the face box in the photo
  const canvas = document.createElement('canvas');
  canvas.width = W;
  canvas.height = H;
  const ctx = canvas.getContext('2d', { willReadFrequently: false });
  // Offscreen layers: the feathered face, and its magnified centre.
  const face = document.createElement('canvas');
  const fctx = face.getContext('2d');
  const inner = document.createElement('canvas');
  const ictx = inner.getContext('2d');

  let faceW = 130; // displayed width of the face box, pixels
  let cx = W / 2;
  let cy = H / 2 + 10;
  let w0 = faceW;
  let last = performance.now();

  function readHint() {
    const t = document.body ? document.body.innerText : '';
    if (/Move back/.test(t)) return 'back';
    if (/Move closer|Keep moving closer/.test(t)) return 'closer';
    if (/center your face/i.test(t)) return 'center';
    if (/Hold still/.test(t)) return 'hold';
    return '';
  }

  // The colour on screen: the component's full-window overlay canvas,
  // sampled at the top and bottom edge (the wipe runs top-down).
  function readLight() {
    let best = null;
    for (const c of document.querySelectorAll('canvas')) {
      if (c.width < 50 || c.height < 50) continue;
      try {
        const g = c.getContext('2d');
        if (!g) continue;
        const a = g.getImageData(2, 2, 1, 1).data;
        const b = g.getImageData(2, c.height - 3, 1, 1).data;
        const alpha = (a[3] + b[3]) / 2;
        if (alpha > 0 && (!best || alpha > best[3])) {
          best = [(a[0] * a[3] + b[0] * b[3]) / 2 / 255, (a[1] * a[3] + b[1] * b[3]) / 2 / 255, (a[2] * a[3] + b[2] * b[3]) / 2 / 255, alpha];
        }
      } catch (e) {
        /* webgl or tainted canvas */
      }
    }
    return best ? [best[0] / 255, best[1] / 255, best[2] / 255] : [0, 0, 0];
  }

  function draw() {
    const now = performance.now();
    const dt = Math.min(0.1, (now - last) / 1000);
    last = now;
    state.frames++;
    const hint = readHint();
    state.hint = hint;
    const o = state.oval;
    if (o && hint === 'closer') state.phase = 'approach';
    if (state.phase === 'approach' && o) {
      if (hint === 'closer' || hint === 'center' || hint === '') faceW = Math.min(faceW * (1 + 0.45 * dt), 1.3 * o.Width);
      if (hint === 'back') faceW = Math.max(faceW * (1 - 0.3 * dt), 0.5 * o.Width);
      const k = Math.min(1, 3 * dt);
      cx += (o.CenterX - cx) * k;
      cy += (o.CenterY + 0.04 * o.Height - cy) * k;
    }
    // Breathing and a slight sway.
    const s = now / 1000;
    const dx = 1.5 * Math.sin(2 * Math.PI * 0.45 * s);
    const dy = 1.0 * Math.sin(2 * Math.PI * 0.31 * s + 1);

    const bg = ctx.createLinearGradient(0, 0, 0, H);
    bg.addColorStop(0, '#8a8f96');
    bg.addColorStop(1, '#6d7177');
    ctx.globalCompositeOperation = 'source-over';
    ctx.fillStyle = bg;
    ctx.fillRect(0, 0, W, H);
    if (!img.complete || !img.naturalWidth) return;

    // Face: the photo's face region with a margin, feathered into the
    // background.
    const scale = faceW / src.w;
    const mw = 1.7 * src.w;
    const mh = 1.5 * src.h;
    const sx = src.x + src.w / 2 - mw / 2;
    const sy = src.y + src.h / 2 - mh / 2;
    const dw = mw * scale;
    const dh = mh * scale;
    face.width = Math.ceil(dw);
    face.height = Math.ceil(dh);
    fctx.globalCompositeOperation = 'source-over';
    fctx.drawImage(img, sx, sy, mw, mh, 0, 0, dw, dh);
    // 3-D: the centre (eyes, nose, mouth) grows up to 8% more than the
    // contour as the face comes closer.
    const progress = Math.max(0, Math.min(1, (faceW - w0) / Math.max(1, (o ? 0.85 * o.Width : 2 * w0) - w0)));
    const warp = 0.08 * progress;
    if (warp > 0.002) {
      const R = 0.42 * faceW;
      inner.width = inner.height = Math.ceil(2 * R);
      ictx.globalCompositeOperation = 'source-over';
      const ms = scale * (1 + warp);
      const ncx = src.x + src.w / 2; // source centre of the face
      const ncy = src.y + src.h * 0.55;
      ictx.drawImage(img, ncx - R / ms, ncy - R / ms, (2 * R) / ms, (2 * R) / ms, 0, 0, 2 * R, 2 * R);
      const m = ictx.createRadialGradient(R, R, 0.5 * R, R, R, R);
      m.addColorStop(0, 'rgba(0,0,0,1)');
      m.addColorStop(1, 'rgba(0,0,0,0)');
      ictx.globalCompositeOperation = 'destination-in';
      ictx.fillStyle = m;
      ictx.fillRect(0, 0, 2 * R, 2 * R);
      const fx = (ncx - sx) * scale;
      const fy = (ncy - sy) * scale;
      fctx.globalCompositeOperation = 'source-over';
      fctx.drawImage(inner, fx - R, fy - R);
    }
    const fm = fctx.createRadialGradient(dw / 2, dh / 2, 0.3 * Math.min(dw, dh), dw / 2, dh / 2, 0.5 * Math.min(dw, dh));
    fm.addColorStop(0, 'rgba(0,0,0,1)');
    fm.addColorStop(1, 'rgba(0,0,0,0)');
    fctx.globalCompositeOperation = 'destination-in';
    fctx.fillStyle = fm;
    fctx.fillRect(0, 0, dw, dh);
    const left = cx + dx - dw / 2;
    const top = cy + dy - dh / 2;
    ctx.drawImage(face, left, top);

    // Reflected screen light: additive, strongest at the centre of the face
    // (facing the screen), fading towards the sides.
    const light = readLight();
    state.light = light;
    if (light[0] + light[1] + light[2] > 0.01) {
      const r = 0.62 * faceW;
      const lx = cx + dx;
      const ly = cy + dy - 0.05 * faceW;
      const g = ctx.createRadialGradient(lx, ly, 0, lx, ly, r);
      const c = `${Math.round(255 * light[0])},${Math.round(255 * light[1])},${Math.round(255 * light[2])}`;
      g.addColorStop(0, `rgba(${c},0.22)`);
      g.addColorStop(0.6, `rgba(${c},0.12)`);
      g.addColorStop(1, `rgba(${c},0)`);
      ctx.globalCompositeOperation = 'lighter';
      ctx.fillStyle = g;
      ctx.fillRect(lx - r, ly - r, 2 * r, 2 * r);
      ctx.globalCompositeOperation = 'source-over';
    }
  }

  let stream = null;
  function cameraStream() {
    if (stream) return stream;
    setInterval(draw, 1000 / 30);
    draw();
    stream = canvas.captureStream(30);
    const track = stream.getVideoTracks()[0];
    const settings = track.getSettings.bind(track);
    track.getSettings = () => ({ ...settings(), width: W, height: H, frameRate: 30, deviceId: 'answering-camera', groupId: 'test' });
    Object.defineProperty(track, 'label', { value: 'Answering test camera' });
    return stream;
  }

  const md = navigator.mediaDevices;
  md.getUserMedia = async () => {
    await img.decode().catch(() => {});
    return cameraStream();
  };
  md.enumerateDevices = async () => [
    { deviceId: 'answering-camera', groupId: 'test', kind: 'videoinput', label: 'Answering test camera', toJSON() { return this; } },
  ];
};
