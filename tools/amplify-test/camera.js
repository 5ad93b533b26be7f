// The answering test camera, injected into the page before any script runs
// (playwright addInitScript with an argument {faceUrl, src}). It replaces
// getUserMedia with a canvas stream that draws a real face photo and
// behaves like a person in front of a screen:
//  - it starts some way from the camera, moves back while the component
//    says "Move back" (its distance check before recording: livenessd sends
//    a threshold that makes the face fit the session's start oval first),
//    then moves closer and towards the oval
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
  // 320x240 is the smallest camera the component accepts; it keeps the
  // browser's own video encoding cheap on a small, busy machine.
  const W = cfg.width || 320;
  const H = cfg.height || 240;
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
  const ctx = canvas.getContext('2d');
  const lightLayer = document.createElement('canvas');
  lightLayer.width = W;
  lightLayer.height = H;
  const lctx = lightLayer.getContext('2d');

  // Sprites rendered once (the page is busy running the component's face
  // detector on the same thread, so each frame must be cheap): the
  // background, the feathered face with a margin, and its feathered centre
  // (eyes, nose, mouth) that is drawn a little larger as the face comes
  // closer, as a 3-D face's central features grow more than its contour.
  const SPRITE = 1; // sprite pixels per source pixel: the drawn face is never larger than the photo's
  const mw = 1.7 * src.w;
  const mh = 1.5 * src.h;
  const msx = src.x + src.w / 2 - mw / 2;
  const msy = src.y + src.h / 2 - mh / 2;
  const ncx = src.x + src.w / 2; // centre of the magnified region: between the eyes and the nose
  const ncy = src.y + src.h * 0.46;
  const nr = 0.5 * src.w;
  let faceSprite = null;
  let centreSprite = null;
  const background = document.createElement('canvas');
  background.width = W;
  background.height = H;
  {
    const b = background.getContext('2d');
    const g = b.createLinearGradient(0, 0, 0, H);
    g.addColorStop(0, '#8a8f96');
    g.addColorStop(1, '#6d7177');
    b.fillStyle = g;
    b.fillRect(0, 0, W, H);
  }
  function feathered(sx, sy, sw, sh, inner) {
    const c = document.createElement('canvas');
    c.width = Math.ceil(sw * SPRITE);
    c.height = Math.ceil(sh * SPRITE);
    const g = c.getContext('2d');
    g.drawImage(img, sx, sy, sw, sh, 0, 0, c.width, c.height);
    // An elliptical feather: a radial gradient in a frame stretched to the
    // sprite's aspect ratio.
    const r = c.width / 2;
    g.save();
    g.translate(c.width / 2, c.height / 2);
    g.scale(1, c.height / c.width);
    const m = g.createRadialGradient(0, 0, inner * r, 0, 0, r);
    m.addColorStop(0, 'rgba(0,0,0,1)');
    m.addColorStop(1, 'rgba(0,0,0,0)');
    g.globalCompositeOperation = 'destination-in';
    g.fillStyle = m;
    g.fillRect(-r, -r, 2 * r, 2 * r);
    g.restore();
    return c;
  }
  function sprites() {
    if (faceSprite || !img.complete || !img.naturalWidth) return faceSprite !== null;
    faceSprite = feathered(msx, msy, mw, mh, 0.8);
    centreSprite = feathered(ncx - nr, ncy - nr, 2 * nr, 2 * nr, 0.7);
    return true;
  }

  let faceW = 0.2 * W; // displayed width of the face box, pixels
  let cx = W / 2;
  let cy = H / 2 + H / 48;
  const w0 = faceW;
  let last = performance.now();
  let hintAt = 0;

  function readHint() {
    const el = document.querySelector('.amplify-liveness-toast__message') || document.querySelector('.amplify-liveness-hint');
    const t = el ? el.textContent : '';
    if (/Move back/.test(t)) return 'back';
    if (/Move closer|Keep moving closer/.test(t)) return 'closer';
    if (/center your face/i.test(t)) return 'center';
    if (/Hold still/.test(t)) return 'hold';
    return '';
  }

  // The colour on screen: the component's full-window colour overlay
  // (its "freshness" canvas), sampled at the top and the bottom edge (the
  // wipe runs top-down), weighted by its opacity.
  function readLight() {
    const c = document.querySelector('canvas.amplify-liveness-freshness-canvas');
    if (!c || c.width < 10 || c.height < 10) return [0, 0, 0];
    try {
      const g = c.getContext('2d', { willReadFrequently: true });
      const a = g.getImageData(2, 2, 1, 1).data;
      const b = g.getImageData(2, c.height - 3, 1, 1).data;
      return [0, 1, 2].map((i) => (a[i] * a[3] + b[i] * b[3]) / 2 / 255 / 255);
    } catch (e) {
      return [0, 0, 0];
    }
  }

  function draw() {
    const now = performance.now();
    const dt = Math.min(0.2, (now - last) / 1000);
    last = now;
    state.frames++;
    if (now - hintAt > 200) {
      state.hint = readHint();
      hintAt = now;
    }
    const hint = state.hint;
    const o = state.oval;
    if (o && hint === 'closer') state.phase = 'approach';
    if (state.phase === 'far' && hint === 'back') {
      // Lean back, about a fifth of the distance per second.
      faceW = Math.max(faceW * (1 - 0.2 * dt), 0.08 * W);
    }
    if (state.phase === 'approach' && o) {
      // Fill the oval as the component asks ("completely fill the oval"):
      // come to 90% of its width in about two seconds, closer still while it
      // says so, back when it says so.
      const target = 0.9 * o.Width;
      if (faceW < target) faceW = Math.min(target, faceW * (1 + 0.7 * dt));
      else if (hint === 'closer') faceW = Math.min(faceW * (1 + 0.2 * dt), 1.25 * o.Width);
      if (hint === 'back') faceW = Math.max(faceW * (1 - 0.3 * dt), 0.6 * o.Width);
      const k = Math.min(1, 3 * dt);
      cx += (o.CenterX - cx) * k;
      cy += (o.CenterY + 0.04 * o.Height - cy) * k;
    }
    ctx.globalCompositeOperation = 'source-over';
    ctx.drawImage(background, 0, 0);
    if (!sprites()) return;
    // Breathing and a slight sway.
    const s = now / 1000;
    const x = cx + 1.5 * Math.sin(2 * Math.PI * 0.45 * s);
    const y = cy + 1.0 * Math.sin(2 * Math.PI * 0.31 * s + 1);
    const scale = faceW / src.w;
    const dw = mw * scale;
    const dh = mh * scale;
    ctx.drawImage(faceSprite, x - dw / 2, y - dh / 2, dw, dh);
    const progress = Math.max(0, Math.min(1, (faceW - w0) / Math.max(1, (o ? 0.9 * o.Width : 2 * w0) - w0)));
    const warp = 0.14 * progress;
    if (warp > 0.002) {
      // A radial warp in three feathered rings: the nearer the centre, the
      // more it is magnified.
      const fx = x + (ncx - (src.x + src.w / 2)) * scale;
      const fy = y + (ncy - (src.y + src.h / 2)) * scale;
      for (const [frac, m] of [[1, 0.5], [0.8, 0.8], [0.6, 1]]) {
        const d = 2 * nr * frac * scale * (1 + warp * m);
        const sw = centreSprite.width * frac;
        ctx.drawImage(centreSprite, (centreSprite.width - sw) / 2, (centreSprite.height - sw) / 2, sw, sw, fx - d / 2, fy - d / 2, d, d);
      }
    }
    // Reflected screen light: the skin reflects the screen's colour
    // (multiplicative: frame x colour), strongest where the face faces the
    // screen, fading towards the sides and absent on the background.
    const light = readLight();
    state.light = light;
    if (light[0] + light[1] + light[2] > 0.01) {
      lctx.globalCompositeOperation = 'copy';
      lctx.drawImage(canvas, 0, 0);
      lctx.globalCompositeOperation = 'multiply';
      lctx.fillStyle = `rgb(${Math.round(255 * light[0])},${Math.round(255 * light[1])},${Math.round(255 * light[2])})`;
      lctx.fillRect(0, 0, W, H);
      const r = 0.6 * faceW;
      const lx = x;
      const ly = y - 0.05 * faceW;
      const g = lctx.createRadialGradient(lx, ly, 0, lx, ly, r);
      g.addColorStop(0, 'rgba(0,0,0,0.5)');
      g.addColorStop(0.3, 'rgba(0,0,0,0.38)');
      g.addColorStop(0.6, 'rgba(0,0,0,0.1)');
      g.addColorStop(1, 'rgba(0,0,0,0)');
      lctx.globalCompositeOperation = 'destination-in';
      lctx.fillStyle = g;
      lctx.fillRect(0, 0, W, H);
      ctx.globalCompositeOperation = 'lighter';
      ctx.drawImage(lightLayer, 0, 0);
      ctx.globalCompositeOperation = 'source-over';
    }
  }

  let stream = null;
  function cameraStream() {
    if (stream) return stream;
    setInterval(draw, 1000 / 24);
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
}
