// livenessd browser SDK — ES module, no dependencies, no build step.
//
//   import { Liveness } from 'https://your-livenessd/sdk/liveness.js';
//   const result = await Liveness.start({ element, sessionId, clientToken });
//   // result.status is 'SUCCEEDED' or 'FAILED'; scores stay on the server.
//
// The SDK asks for the front camera, streams JPEG frames over the capture
// WebSocket (protocol v1, docs/PROTOCOL.md), shows the server's oval and its
// guidance, plays the server's colour sequence full screen and reports the
// moment each colour was painted. It has no face model: every decision is
// the server's. See docs/SDK.md.

const VERSION = '1.0.0';
const SUBPROTOCOL = 'livenessd.v1';

// Frame capture bounds (the server's challenge.limits may lower them).
const MAX_WIDTH = 640;
const MAX_HEIGHT = 480;
const JPEG_QUALITY = 0.8;
const DEFAULT_FPS = 15;
// Do not queue frames behind a slow network: skip a frame when this many
// bytes are still waiting in the socket.
const MAX_BUFFERED_BYTES = 512 * 1024;
const CHALLENGE_TIMEOUT_MS = 15000;
// A socket closed before it opened is tried again: the server refuses the
// upgrade with 503 while its analysis is behind (Retry-After 2 s, which a
// browser cannot read; the session stays usable), or the network dropped it.
const CONNECT_ATTEMPTS = 3;
const CONNECT_RETRY_MS = 2000;
const RESULT_TIMEOUT_MS = 30000;
// The face must fill the oval early enough for the colours and the upload
// to end within the server's limits.maxDurationMs; the countdown shows in
// the last COUNTDOWN_SHOW_MS, and at zero the SDK gives up (close 4001).
const FIT_MARGIN_MS = 2500;
const COUNTDOWN_SHOW_MS = 10000;
const CLOSE_FIT_TIMEOUT = 4001;
// The oval-fit rule when the server does not send challenge.fit (docs/PROTOCOL.md).
const DEFAULT_FIT = { start: 0.9, min: 0.7, max: 1.2, maxOffset: 0.2 };
const DEFAULT_START_SCALE = 0.55;

/** Locale tables. Keys missing from a locale fall back to English. */
const STRINGS = {
  en: {
    title: 'Face check',
    introText: 'We will check that you are a real person in front of the camera. It takes about 15 seconds.',
    introTips: ['Find good, even light on your face.', 'Remove sunglasses, masks or hats.', 'Hold your device at eye level.'],
    photosensitivityTitle: 'Photosensitivity warning',
    photosensitivityText: 'During the check your screen will flash a sequence of colours. If you or anyone nearby has photosensitive epilepsy or is sensitive to flashing light, do not continue.',
    start: 'I understand, start the check',
    requestingCamera: 'Waiting for camera access…',
    requestingCameraHelp: 'Your browser will ask to use the camera. Choose “Allow”.',
    connecting: 'Connecting…',
    cancel: 'Cancel',
    videoLabel: 'Your camera picture, with an oval to place your face in',
    guidance: {
      no_face: 'We cannot see your face. Look straight at the camera.',
      multiple_faces: 'Only one face should be visible.',
      move_back: 'Move back until your face fits inside the small oval.',
      move_closer: 'Move closer until your face fills the oval.',
      too_close: 'Move back a little.',
      move_into_oval: 'Move your face into the oval.',
      too_dark: 'It is too dark. Find more light.',
      too_bright: 'It is too bright. Avoid strong light on your face or behind you.',
      face_camera: 'Look straight at the screen.',
      hold_still: 'Hold still.',
      ok: 'Good. Hold still.',
    },
    startPositioning: 'Place your face in the oval.',
    meterTarget: 'Oval filled',
    meterStart: 'Fit in the small oval',
    timeLeft: 'Time left: {s} s',
    camera: 'Camera',
    cameraN: 'Camera {n}',
    fitHints: {
      start: 'Next time, first move back until your face fits inside the small oval, then come closer until it fills the large one.',
      target: 'Next time, come closer until your face fills the oval, and keep it in the middle.',
    },
    flashing: 'Keep still while the screen changes colour.',
    analysing: 'Checking…',
    analysingHelp: 'This takes a moment.',
    succeededTitle: 'Check complete',
    succeededText: 'Thank you. You can continue.',
    failedTitle: 'We could not verify you',
    failedText: 'Make sure your face is well lit and fully in the oval, then try again with a new check.',
    tryAgain: 'Try again',
    startNewCheck: 'Start a new check',
    errorTitle: 'Something went wrong',
    cameraErrorTitle: 'Camera needed',
    sessionErrorTitle: 'Start a new check',
    cancelledTitle: 'Check cancelled',
    fitTimeoutTitle: 'Time is up',
    progress: 'Progress',
    errors: {
      CAMERA_DENIED: 'Camera access was blocked. Allow this site to use your camera in your browser settings, then try again.',
      CAMERA_NOT_FOUND: 'No camera was found. Connect a camera, or use a device with a front camera, then try again.',
      CAMERA_IN_USE: 'Your camera is being used by another application. Close it, then try again.',
      CAMERA_UNSUPPORTED: 'This browser cannot use the camera on this page. Use a recent browser and a secure (https) address.',
      SESSION_EXPIRED: 'This verification session has expired. Start a new check.',
      SESSION_NOT_FOUND: 'This verification session was not found or the link is no longer valid. Start a new check.',
      SESSION_ALREADY_USED: 'This verification session has already been used. Start a new check.',
      CONNECTION_FAILED: 'We could not connect to the verification service. Check your connection and start a new check.',
      TIMEOUT: 'The check took too long. Start a new check.',
      FACE_FIT_TIMEOUT: 'Your face did not fill the oval in time.',
      RATE_LIMITED: 'Too many attempts. Wait a minute, then start a new check.',
      PROTOCOL_ERROR: 'The verification service rejected the capture. Start a new check.',
      SERVER_ERROR: 'The verification service had a problem. Start a new check.',
      CANCELLED: 'The check was cancelled.',
      INVALID_OPTIONS: 'The check could not start: it was set up incorrectly.',
    },
  },
  fr: {
    title: 'Vérification du visage',
    introText: 'Nous allons vérifier que vous êtes une personne réelle devant la caméra. Cela prend environ 15 secondes.',
    introTips: ['Placez-vous sous une lumière bonne et uniforme.', 'Retirez lunettes de soleil, masque ou chapeau.', 'Tenez votre appareil à hauteur des yeux.'],
    photosensitivityTitle: 'Avertissement de photosensibilité',
    photosensitivityText: 'Pendant la vérification, votre écran affichera une suite de couleurs clignotantes. Si vous ou une personne proche êtes sujet à l’épilepsie photosensible ou sensible aux lumières clignotantes, ne continuez pas.',
    start: 'J’ai compris, commencer',
    requestingCamera: 'En attente de l’accès à la caméra…',
    requestingCameraHelp: 'Votre navigateur va demander l’accès à la caméra. Choisissez « Autoriser ».',
    connecting: 'Connexion…',
    cancel: 'Annuler',
    videoLabel: 'L’image de votre caméra, avec un ovale où placer votre visage',
    guidance: {
      no_face: 'Nous ne voyons pas votre visage. Regardez la caméra.',
      multiple_faces: 'Un seul visage doit être visible.',
      move_back: 'Reculez jusqu’à ce que votre visage tienne dans le petit ovale.',
      move_closer: 'Rapprochez-vous jusqu’à ce que votre visage remplisse l’ovale.',
      too_close: 'Reculez un peu.',
      move_into_oval: 'Placez votre visage dans l’ovale.',
      too_dark: 'Il fait trop sombre. Trouvez plus de lumière.',
      too_bright: 'Il y a trop de lumière. Évitez une lumière forte sur vous ou derrière vous.',
      face_camera: 'Regardez l’écran bien en face.',
      hold_still: 'Ne bougez plus.',
      ok: 'Parfait. Ne bougez plus.',
    },
    startPositioning: 'Placez votre visage dans l’ovale.',
    meterTarget: 'Ovale rempli',
    meterStart: 'Tenir dans le petit ovale',
    timeLeft: 'Temps restant : {s} s',
    camera: 'Caméra',
    cameraN: 'Caméra {n}',
    fitHints: {
      start: 'La prochaine fois, reculez d’abord jusqu’à ce que votre visage tienne dans le petit ovale, puis rapprochez-vous jusqu’à ce qu’il remplisse le grand.',
      target: 'La prochaine fois, rapprochez-vous jusqu’à ce que votre visage remplisse l’ovale, et gardez-le au centre.',
    },
    flashing: 'Ne bougez pas pendant que l’écran change de couleur.',
    analysing: 'Vérification…',
    analysingHelp: 'Cela prend un instant.',
    succeededTitle: 'Vérification terminée',
    succeededText: 'Merci. Vous pouvez continuer.',
    failedTitle: 'Nous n’avons pas pu vous vérifier',
    failedText: 'Assurez-vous que votre visage est bien éclairé et entièrement dans l’ovale, puis réessayez avec une nouvelle vérification.',
    tryAgain: 'Réessayer',
    startNewCheck: 'Nouvelle vérification',
    errorTitle: 'Un problème est survenu',
    cameraErrorTitle: 'Caméra requise',
    sessionErrorTitle: 'Nouvelle vérification nécessaire',
    cancelledTitle: 'Vérification annulée',
    fitTimeoutTitle: 'Le temps est écoulé',
    progress: 'Progression',
    errors: {
      CAMERA_DENIED: 'L’accès à la caméra a été bloqué. Autorisez ce site à utiliser la caméra dans les réglages du navigateur, puis réessayez.',
      CAMERA_NOT_FOUND: 'Aucune caméra n’a été trouvée. Branchez une caméra ou utilisez un appareil avec caméra frontale, puis réessayez.',
      CAMERA_IN_USE: 'Votre caméra est utilisée par une autre application. Fermez-la, puis réessayez.',
      CAMERA_UNSUPPORTED: 'Ce navigateur ne peut pas utiliser la caméra sur cette page. Utilisez un navigateur récent et une adresse sécurisée (https).',
      SESSION_EXPIRED: 'Cette session de vérification a expiré. Lancez une nouvelle vérification.',
      SESSION_NOT_FOUND: 'Cette session de vérification est introuvable ou le lien n’est plus valide. Lancez une nouvelle vérification.',
      SESSION_ALREADY_USED: 'Cette session de vérification a déjà été utilisée. Lancez une nouvelle vérification.',
      CONNECTION_FAILED: 'Impossible de joindre le service de vérification. Vérifiez votre connexion et lancez une nouvelle vérification.',
      TIMEOUT: 'La vérification a pris trop de temps. Lancez une nouvelle vérification.',
      FACE_FIT_TIMEOUT: 'Votre visage n’a pas rempli l’ovale à temps.',
      RATE_LIMITED: 'Trop de tentatives. Patientez une minute, puis lancez une nouvelle vérification.',
      PROTOCOL_ERROR: 'Le service de vérification a refusé la capture. Lancez une nouvelle vérification.',
      SERVER_ERROR: 'Le service de vérification a rencontré un problème. Lancez une nouvelle vérification.',
      CANCELLED: 'La vérification a été annulée.',
      INVALID_OPTIONS: 'La vérification n’a pas pu démarrer : elle est mal configurée.',
    },
  },
};

// Close codes of the capture protocol → SDK error codes.
const CLOSE_CODES = {
  4400: 'PROTOCOL_ERROR',
  4404: 'SESSION_NOT_FOUND',
  4408: 'TIMEOUT',
  4409: 'SESSION_ALREADY_USED',
  4410: 'SESSION_EXPIRED',
  4413: 'PROTOCOL_ERROR',
  4425: 'TIMEOUT',
  4429: 'RATE_LIMITED',
  1011: 'SERVER_ERROR',
};

const CAMERA_CODES = new Set(['CAMERA_DENIED', 'CAMERA_NOT_FOUND', 'CAMERA_IN_USE', 'CAMERA_UNSUPPORTED']);
const SESSION_CODES = new Set(['SESSION_EXPIRED', 'SESSION_NOT_FOUND', 'SESSION_ALREADY_USED']);

function errorTitle(code, t) {
  if (CAMERA_CODES.has(code)) return t.cameraErrorTitle;
  if (SESSION_CODES.has(code)) return t.sessionErrorTitle;
  if (code === 'CANCELLED') return t.cancelledTitle;
  if (code === 'FACE_FIT_TIMEOUT') return t.fitTimeoutTitle;
  return t.errorTitle;
}

/** The error every failure of Liveness.start rejects with. */
export class LivenessError extends Error {
  constructor(code, message, cause) {
    super(message);
    this.name = 'LivenessError';
    this.code = code;
    if (cause !== undefined) this.cause = cause;
  }
}

function resolveStrings(locale, overrides) {
  let lang = locale;
  if (!lang && typeof navigator !== 'undefined') lang = navigator.language || 'en';
  lang = String(lang || 'en').toLowerCase();
  const table = STRINGS[lang] || STRINGS[lang.split('-')[0]] || STRINGS.en;
  const merged = { ...STRINGS.en, ...table, lang: STRINGS[lang] ? lang : (STRINGS[lang.split('-')[0]] ? lang.split('-')[0] : 'en') };
  merged.guidance = { ...STRINGS.en.guidance, ...table.guidance };
  merged.errors = { ...STRINGS.en.errors, ...table.errors };
  merged.fitHints = { ...STRINGS.en.fitHints, ...table.fitHints };
  if (overrides && typeof overrides === 'object') {
    for (const [k, v] of Object.entries(overrides)) {
      if ((k === 'guidance' || k === 'errors' || k === 'fitHints') && v && typeof v === 'object') merged[k] = { ...merged[k], ...v };
      else merged[k] = v;
    }
  }
  return merged;
}

// h builds an element: h('div', {class: 'x', onclick: fn}, child, 'text').
// Text always goes through textContent, never HTML.
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function cameraError(err, t) {
  const name = err && err.name;
  let code = 'CAMERA_IN_USE';
  if (name === 'NotAllowedError' || name === 'SecurityError' || name === 'PermissionDeniedError') code = 'CAMERA_DENIED';
  else if (name === 'NotFoundError' || name === 'OverconstrainedError' || name === 'DevicesNotFoundError') code = 'CAMERA_NOT_FOUND';
  else if (name === 'NotReadableError' || name === 'TrackStartError' || name === 'AbortError') code = 'CAMERA_IN_USE';
  else if (name === 'TypeError') code = 'CAMERA_UNSUPPORTED';
  return new LivenessError(code, t.errors[code], err);
}

function wsURL(serverUrl, sessionId, token) {
  const u = new URL(serverUrl);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  const base = u.pathname.replace(/\/+$/, '');
  u.pathname = `${base}/v1/liveness/session/${encodeURIComponent(sessionId)}/stream`;
  u.search = '';
  u.searchParams.set('token', token);
  u.hash = '';
  return u.toString();
}

function defaultServerUrl() {
  try {
    return new URL(import.meta.url).origin;
  } catch {
    return location.origin;
  }
}


/** One run of the capture UI inside options.element. */
class Capture {
  constructor(opts) {
    this.opts = opts;
    this.t = resolveStrings(opts.locale, opts.strings);
    this.stream = null;
    this.ws = null;
    this.frameTimer = 0;
    this.t0 = -1;
    this.framesSent = 0;
    this.encoding = false;
    this.challenge = null;
    this.guidance = '';
    this.inOval = false;
    this.approach = 'start';
    this.fill = 0;
    this.need = 0;
    this.cameras = [];
    this.stage = 'idle';
    this.finished = false;
    this.cleanups = [];
  }

  // ---- DOM ---------------------------------------------------------------

  mount() {
    const host = this.opts.element;
    this.host = host;
    host.setAttribute('data-livenessd', '');
    const root = host.shadowRoot || host.attachShadow({ mode: 'open' });
    root.replaceChildren();
    this.shadow = root;
    const css = h('link', { rel: 'stylesheet', href: new URL('./liveness.css', import.meta.url).toString() });
    this.cssReady = new Promise((resolve) => {
      css.addEventListener('load', resolve, { once: true });
      css.addEventListener('error', resolve, { once: true });
      setTimeout(resolve, 3000);
    });
    this.video = h('video', { class: 'lv-video', playsinline: true, muted: true, autoplay: true, 'aria-hidden': 'true' });
    this.video.muted = true;
    this.overlay = h('canvas', { class: 'lv-overlay', 'aria-hidden': 'true' });
    this.stageEl = h('div', { class: 'lv-stage', role: 'img', 'aria-label': this.t.videoLabel }, this.video, this.overlay);
    this.bar = h('div', { class: 'lv-bar' });
    this.progressEl = h('div', { class: 'lv-progress', role: 'progressbar', 'aria-label': this.t.progress, 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': '0' }, this.bar);
    this.live = h('p', { class: 'lv-live', role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true' });
    // How well the face fits the oval of the current stage: how far back
    // to go in the start stage, how full the oval is after.
    this.meterBar = h('div', { class: 'lv-meter-bar' });
    this.meterText = h('span', { class: 'lv-meter-text' });
    this.meter = h('div', { class: 'lv-meter', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': '0' },
      this.meterText, h('div', { class: 'lv-meter-track' }, this.meterBar));
    this.countdownEl = h('p', { class: 'lv-countdown', role: 'timer', 'aria-live': 'off' });
    this.panel = h('div', { class: 'lv-panel' });
    this.flashEl = h('div', { class: 'lv-flash', 'aria-hidden': 'true' }, h('p', { class: 'lv-flash-text' }, this.t.flashing));
    this.root = h('div', { class: 'lv-root', lang: this.t.lang, 'data-screen': 'intro' },
      this.progressEl, this.stageEl, this.meter, this.live, this.countdownEl, this.panel, this.flashEl);
    root.append(css, this.root);
    this.resizeObserver = new ResizeObserver(() => this.drawOval());
    this.resizeObserver.observe(this.stageEl);
    this.cleanups.push(() => this.resizeObserver.disconnect());
  }

  setScreen(name) {
    this.root.dataset.screen = name;
    this.host.dataset.livenessStage = name;
  }

  setProgress(fraction) {
    const pct = Math.max(0, Math.min(100, Math.round(fraction * 100)));
    this.bar.style.width = `${pct}%`;
    this.progressEl.setAttribute('aria-valuenow', String(pct));
  }

  announce(text) {
    if (this.live.textContent !== text) this.live.textContent = text;
  }

  // panelContent replaces the panel and moves focus to its first button or
  // its heading, so keyboard and screen-reader users land on the new step.
  panelContent(...children) {
    this.panel.replaceChildren(...children);
    const target = this.panel.querySelector('[data-autofocus]') || this.panel.querySelector('h2');
    if (target) requestAnimationFrame(() => target.focus({ preventScroll: false }));
  }

  emit(stage, extra) {
    this.stage = stage;
    this.setScreen(stage);
    if (typeof this.opts.onProgress === 'function') {
      try {
        this.opts.onProgress({ stage, ...extra });
      } catch (e) {
        console.error('livenessd: onProgress threw', e);
      }
    }
  }

  // ---- screens ------------------------------------------------------------

  showIntro() {
    const t = this.t;
    return new Promise((resolve) => {
      this.emit('intro', { progress: 0 });
      this.setProgress(0);
      this.announce('');
      const startBtn = h('button', { class: 'lv-btn lv-primary', type: 'button', 'data-action': 'start', 'data-autofocus': true, onclick: () => resolve() }, t.start);
      this.panelContent(
        h('h2', { tabindex: '-1' }, t.title),
        h('p', {}, t.introText),
        h('ul', { class: 'lv-tips' }, t.introTips.map((tip) => h('li', {}, tip))),
        h('div', { class: 'lv-warning', role: 'note', 'aria-labelledby': 'lv-ps-title' },
          h('h3', { id: 'lv-ps-title' }, h('span', { class: 'lv-warn-icon', 'aria-hidden': 'true' }, '!'), t.photosensitivityTitle),
          h('p', {}, t.photosensitivityText)),
        h('div', { class: 'lv-actions' }, startBtn),
      );
    });
  }

  showWaiting(stage, title, help) {
    this.emit(stage, {});
    this.panelContent(h('div', { class: 'lv-waiting' }, h('span', { class: 'lv-spinner', 'aria-hidden': 'true' }), h('h2', { tabindex: '-1' }, title), help ? h('p', {}, help) : null));
    this.announce(title);
  }

  showCaptureControls() {
    const t = this.t;
    let picker = null;
    if (this.cameras.length > 1) {
      // Several cameras (a laptop's and a USB one, a phone's front and
      // back): let the person choose the one that faces them.
      const select = h('select', { class: 'lv-select', 'data-action': 'camera', onchange: (ev) => this.switchCamera(ev.target.value) },
        this.cameras.map((c, i) => h('option', { value: c.deviceId, selected: c.deviceId === this.deviceId }, c.label || t.cameraN.replace('{n}', String(i + 1)))));
      picker = h('label', { class: 'lv-camera' }, h('span', {}, t.camera), select);
    }
    this.panelContent(h('div', { class: 'lv-actions lv-actions-quiet' },
      picker,
      h('button', { class: 'lv-btn lv-secondary', type: 'button', 'data-action': 'cancel', onclick: () => this.cancel() }, t.cancel)));
  }

  // showEnd draws the final screen. It does not wait for the user.
  showEnd(kind, title, text, retry) {
    // The camera picture is gone: the end screen stands alone, and the
    // instruction line becomes screen-reader only again.
    this.root.classList.remove('lv-has-video');
    const buttons = [];
    if (retry) {
      buttons.push(h('button', { class: 'lv-btn lv-primary', type: 'button', 'data-action': 'retry', 'data-autofocus': true, onclick: retry.fn }, retry.label));
    }
    this.panelContent(
      h('div', { class: `lv-end lv-end-${kind}` },
        h('span', { class: 'lv-end-icon', 'aria-hidden': 'true' }, kind === 'success' ? '✓' : (kind === 'failed' ? '✕' : '!')),
        h('h2', { tabindex: '-1' }, title),
        h('p', { class: 'lv-end-text' }, text),
        buttons.length ? h('div', { class: 'lv-actions' }, buttons) : null),
    );
    this.announce(`${title}. ${text}`);
  }

  // ---- camera -------------------------------------------------------------

  async openCamera() {
    const t = this.t;
    if (!navigator.mediaDevices || typeof navigator.mediaDevices.getUserMedia !== 'function') {
      throw new LivenessError('CAMERA_UNSUPPORTED', t.errors.CAMERA_UNSUPPORTED);
    }
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        audio: false,
        video: { facingMode: 'user', width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 30 } },
      });
    } catch (err) {
      throw cameraError(err, t);
    }
    if (this.finished) {
      stream.getTracks().forEach((tr) => tr.stop());
      throw new LivenessError('CANCELLED', t.errors.CANCELLED);
    }
    this.stream = stream;
    this.video.srcObject = stream;
    try {
      await this.video.play();
    } catch (err) {
      // Autoplay of a muted inline video is allowed; a failure here means the
      // stream itself is unusable.
      throw cameraError(err, t);
    }
    if (!this.video.videoWidth) {
      await new Promise((resolve) => this.video.addEventListener('loadedmetadata', resolve, { once: true }));
    }
    const track = stream.getVideoTracks()[0];
    this.deviceId = (track && track.getSettings && track.getSettings().deviceId) || '';
    try {
      const devices = await navigator.mediaDevices.enumerateDevices();
      this.cameras = devices.filter((d) => d.kind === 'videoinput' && d.deviceId);
    } catch {
      this.cameras = [];
    }
  }

  // switchCamera replaces the stream with camera id's; frames continue
  // from it (the server takes each frame's own size).
  async switchCamera(id) {
    if (!id || id === this.deviceId) return;
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        audio: false,
        video: { deviceId: { exact: id }, width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 30 } },
      });
    } catch (err) {
      this.announce(cameraError(err, this.t).message);
      return;
    }
    if (this.finished) {
      stream.getTracks().forEach((tr) => tr.stop());
      return;
    }
    const old = this.stream;
    this.stream = stream;
    this.video.srcObject = stream;
    this.deviceId = id;
    try {
      await this.video.play();
    } catch (err) {
      this.announce(cameraError(err, this.t).message);
    }
    if (old) old.getTracks().forEach((tr) => tr.stop());
    this.drawOval();
  }

  stopCamera() {
    if (this.stream) this.stream.getTracks().forEach((tr) => tr.stop());
    this.stream = null;
    this.video.srcObject = null;
  }

  // ---- oval ---------------------------------------------------------------

  // fit is the server's oval-fit rule (challenge.fit), or the default.
  fitRule() {
    const f = (this.challenge && this.challenge.fit) || {};
    const num = (v, d) => (Number(v) > 0 ? Number(v) : d);
    return { start: num(f.start, DEFAULT_FIT.start), min: num(f.min, DEFAULT_FIT.min), max: num(f.max, DEFAULT_FIT.max) };
  }

  // startOval is the challenge's start oval (the target scaled down when
  // the server sends none).
  startOval() {
    const c = this.challenge || {};
    const o = c.start;
    if (o && o.width > 0 && o.height > 0) return o;
    const g = c.oval || {};
    return { centerX: g.centerX, centerY: g.centerY, width: g.width * DEFAULT_START_SCALE, height: g.height * DEFAULT_START_SCALE };
  }

  // meterValue is how well the face fits the current stage's oval, 0..1:
  // in the start stage how close it is to fitting inside the small oval,
  // then how full the target oval is (1 from the fill that counts as in:
  // the server's `need`, which is more than fit.min while the approach has
  // been too short for the 3-D check).
  meterValue() {
    const fit = this.fitRule();
    if (!(this.fill > 0)) return 0;
    if (this.approach === 'start') {
      const oval = (this.challenge && this.challenge.oval) || {};
      const startFill = this.fill * (oval.width / this.startOval().width);
      return Math.min(1, fit.start / startFill);
    }
    return Math.min(1, this.fill / (this.need > 0 ? this.need : fit.min));
  }

  updateMeter() {
    const v = this.meterValue();
    const pct = Math.round(100 * v);
    const label = this.approach === 'start' ? this.t.meterStart : this.t.meterTarget;
    this.meterBar.style.width = `${pct}%`;
    this.meterText.textContent = `${label}: ${pct}%`;
    this.meter.setAttribute('aria-valuenow', String(pct));
    this.meter.setAttribute('aria-label', label);
    this.meter.dataset.approach = this.approach;
    this.meter.dataset.full = v >= 1 ? 'true' : 'false';
    return v;
  }

  drawOval() {
    const c = this.overlay;
    const rect = this.stageEl.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(rect.width * dpr));
    const hgt = Math.max(1, Math.round(rect.height * dpr));
    if (c.width !== w || c.height !== hgt) {
      c.width = w;
      c.height = hgt;
    }
    const ctx = c.getContext('2d');
    ctx.clearRect(0, 0, w, hgt);
    const target = this.challenge && this.challenge.oval;
    const vw = this.video.videoWidth;
    const vh = this.video.videoHeight;
    if (!target || !vw || !vh) return;
    // The oval of the stage: the small start oval until the server has seen
    // the face fit inside it, then the target.
    const start = this.approach === 'start';
    const oval = start ? this.startOval() : target;
    // The video is shown mirrored with object-fit: cover; map the oval
    // (centre in ratios of the unmirrored camera frame, size in ratios of
    // the long side of its largest 4:3 region in the frame's orientation:
    // 640 at 640x480 and at 480x640) into the displayed picture.
    const s = Math.max(w / vw, hgt / vh);
    const dw = vw * s;
    const dh = vh * s;
    const ox = (w - dw) / 2;
    const oy = (hgt - dh) / 2;
    const bw = Math.min(Math.max(vw, vh), (Math.min(vw, vh) * 4) / 3) * s;
    const cx = ox + (1 - oval.centerX) * dw;
    const cy = oy + oval.centerY * dh;
    const rx = (oval.width * bw) / 2;
    const ry = (oval.height * bw * 0.75) / 2;
    ctx.save();
    ctx.fillStyle = 'rgba(12, 16, 24, 0.62)';
    ctx.beginPath();
    ctx.rect(0, 0, w, hgt);
    ctx.ellipse(cx, cy, rx, ry, 0, 0, Math.PI * 2);
    ctx.fill('evenodd');
    const line = Math.max(3, 4 * dpr);
    ctx.lineWidth = line;
    const good = !start && (this.inOval || this.guidance === 'ok' || this.guidance === 'hold_still');
    ctx.strokeStyle = good ? '#3ddc97' : '#ffffff';
    if (start) ctx.setLineDash([3 * line, 2 * line]);
    ctx.beginPath();
    ctx.ellipse(cx, cy, rx, ry, 0, 0, Math.PI * 2);
    ctx.stroke();
    // How well the face fits, as an arc along the outline from the top.
    const v = this.meterValue();
    if (v > 0 && !good) {
      ctx.setLineDash([]);
      ctx.lineWidth = 2 * line;
      ctx.strokeStyle = start ? '#ffb020' : '#3ddc97';
      ctx.beginPath();
      ctx.ellipse(cx, cy, rx, ry, 0, -Math.PI / 2, -Math.PI / 2 + v * Math.PI * 2);
      ctx.stroke();
    }
    ctx.restore();
    this.root.dataset.inOval = good ? 'true' : 'false';
    this.root.dataset.approach = this.approach;
  }

  // ---- socket -------------------------------------------------------------

  // connect opens the socket and resolves with the challenge, trying again
  // after CONNECT_RETRY_MS, then twice that, when the socket closes before it
  // opened; all attempts share CHALLENGE_TIMEOUT_MS.
  async connect() {
    const started = performance.now();
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.connectOnce(CHALLENGE_TIMEOUT_MS - (performance.now() - started));
      } catch (err) {
        const wait = CONNECT_RETRY_MS * attempt;
        if (!err.beforeOpen || attempt >= CONNECT_ATTEMPTS || this.finished ||
          performance.now() - started + wait >= CHALLENGE_TIMEOUT_MS) throw err;
        this.root.dataset.connectRetries = String(attempt);
        await new Promise((r) => setTimeout(r, wait));
        if (this.finished) throw err;
      }
    }
  }

  connectOnce(timeoutMs) {
    const t = this.t;
    return new Promise((resolve, reject) => {
      let ws;
      try {
        ws = new WebSocket(wsURL(this.opts.serverUrl, this.opts.sessionId, this.opts.clientToken), SUBPROTOCOL);
      } catch (err) {
        reject(new LivenessError('CONNECTION_FAILED', t.errors.CONNECTION_FAILED, err));
        return;
      }
      ws.binaryType = 'arraybuffer';
      this.ws = ws;
      const timer = setTimeout(() => fail(new LivenessError('TIMEOUT', t.errors.TIMEOUT)), timeoutMs);
      let settled = false;
      let opened = false;
      const fail = (err) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(err);
      };
      ws.addEventListener('open', () => {
        opened = true;
        this.send({ type: 'hello', width: this.frameSize().width, height: this.frameSize().height, userAgent: String(navigator.userAgent).slice(0, 256), sdk: `livenessd-js/${VERSION}` });
      });
      ws.addEventListener('message', (ev) => {
        if (typeof ev.data !== 'string') return;
        let msg;
        try {
          msg = JSON.parse(ev.data);
        } catch {
          return;
        }
        if (!settled && msg.type === 'challenge') {
          settled = true;
          clearTimeout(timer);
          resolve(msg);
          return;
        }
        if (!settled && msg.type === 'error') {
          fail(this.serverError(msg.code, msg.message));
          return;
        }
        this.onMessage(msg);
      });
      ws.addEventListener('close', (ev) => {
        if (!settled) {
          const err = this.closeError(ev.code);
          err.beforeOpen = !opened;
          fail(err);
          return;
        }
        this.onClose(ev);
      });
    });
  }

  serverError(code) {
    const c = CLOSE_CODES[code] || 'SERVER_ERROR';
    return new LivenessError(c, this.t.errors[c]);
  }

  closeError(code) {
    const c = CLOSE_CODES[code] || 'CONNECTION_FAILED';
    return new LivenessError(c, this.t.errors[c]);
  }

  send(obj) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(obj));
  }

  now() {
    return performance.now() - this.t0;
  }

  // ---- frames -------------------------------------------------------------

  // frameSize fits the camera picture into 640x480 (480x640 in portrait),
  // never upscaling.
  frameSize() {
    const vw = this.video.videoWidth || MAX_WIDTH;
    const vh = this.video.videoHeight || MAX_HEIGHT;
    const s = vw >= vh ? Math.min(1, MAX_WIDTH / vw, MAX_HEIGHT / vh) : Math.min(1, MAX_HEIGHT / vw, MAX_WIDTH / vh);
    return { width: Math.max(1, Math.round(vw * s)), height: Math.max(1, Math.round(vh * s)) };
  }

  startFrames() {
    const limits = (this.challenge && this.challenge.limits) || {};
    const fps = Math.max(1, Math.min(30, Number(limits.fps) || DEFAULT_FPS));
    this.maxFrames = Number(limits.maxFrames) || Infinity;
    this.maxFrameBytes = Number(limits.maxFrameBytes) || Infinity;
    this.canvas = document.createElement('canvas');
    const { width, height } = this.frameSize();
    this.canvas.width = width;
    this.canvas.height = height;
    this.ctx2d = this.canvas.getContext('2d', { alpha: false });
    // Where the browser tells when each camera frame was captured
    // (requestVideoFrameCallback: captureTime for cameras, else the time
    // the frame was presented), frames carry that time rather than the
    // moment they were copied, which a busy page delays.
    this.hasFrameCallback = typeof this.video.requestVideoFrameCallback === 'function';
    if (this.hasFrameCallback) {
      const onFrame = (now, md) => {
        if (this.finished || this.stopFrames) return;
        this.frameMeta = { at: md.captureTime || md.presentationTime || now, seen: performance.now(), n: md.presentedFrames };
        this.video.requestVideoFrameCallback(onFrame);
      };
      this.video.requestVideoFrameCallback(onFrame);
    }
    const interval = 1000 / fps;
    let next = performance.now();
    const tick = () => {
      if (this.finished || this.stopFrames) return;
      next += interval;
      const delay = Math.max(0, next - performance.now());
      if (delay === 0) next = performance.now();
      this.frameTimer = setTimeout(tick, delay);
      this.grabFrame();
    };
    tick();
  }

  grabFrame() {
    if (this.encoding || this.framesSent >= this.maxFrames) return;
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN || this.ws.bufferedAmount > MAX_BUFFERED_BYTES) return;
    if (this.video.readyState < 2) return;
    let at = performance.now();
    if (this.hasFrameCallback) {
      // Send only camera frames not sent yet, stamped with their own time;
      // a frame presented long ago (a stalled page) is not re-sent as new.
      const meta = this.frameMeta;
      if (!meta || meta.n === this.lastFrameN || at - meta.seen > 250 || meta.at > at) return;
      this.lastFrameN = meta.n;
      at = meta.at;
    }
    if (this.t0 < 0) this.t0 = at;
    if (at < this.t0) return;
    const size = this.frameSize();
    if (size.width !== this.canvas.width || size.height !== this.canvas.height) {
      // Another camera (the picker): frames take its size.
      this.canvas.width = size.width;
      this.canvas.height = size.height;
    }
    this.ctx2d.drawImage(this.video, 0, 0, this.canvas.width, this.canvas.height);
    const ts = at - this.t0;
    this.encoding = true;
    this.encode(JPEG_QUALITY).then(async (blob) => {
      if (blob && blob.size > this.maxFrameBytes) blob = await this.encode(0.6);
      if (!blob || blob.size > this.maxFrameBytes) return;
      const jpeg = new Uint8Array(await blob.arrayBuffer());
      const msg = new Uint8Array(8 + jpeg.byteLength);
      new DataView(msg.buffer).setFloat64(0, ts, true);
      msg.set(jpeg, 8);
      if (this.ws && this.ws.readyState === WebSocket.OPEN && !this.ended) {
        this.ws.send(msg.buffer);
        this.framesSent++;
      }
    }).catch((err) => console.warn('livenessd: frame encode failed', err))
      .finally(() => { this.encoding = false; });
  }

  encode(quality) {
    return new Promise((resolve) => this.canvas.toBlob(resolve, 'image/jpeg', quality));
  }

  // ---- live phase ----------------------------------------------------------

  onMessage(msg) {
    switch (msg.type) {
      case 'guidance': {
        this.guidance = String(msg.code || '');
        this.inOval = !!msg.inOval;
        // A server without the two stages sends no stage: the target only.
        this.approach = msg.stage === 'start' ? 'start' : 'target';
        this.fill = Math.max(0, Number(msg.fill) || 0);
        this.need = Math.max(0, Number(msg.need) || 0);
        if (this.stage === 'positioning') {
          const text = this.t.guidance[this.guidance] || this.t.startPositioning;
          this.announce(text);
          const meter = this.updateMeter();
          // Overall progress: 0.15-0.4 while positioning, by the meter.
          const progress = 0.15 + (this.approach === 'start' ? 0.05 : 0.1 + 0.15 * meter);
          this.setProgress(progress);
          this.emit('positioning', { guidance: this.guidance, inOval: this.inOval, approach: this.approach, fill: this.fill, need: this.need, progress });
        }
        this.drawOval();
        break;
      }
      case 'flash':
        this.flashed = true;
        this.stopCountdown();
        if (this.onFlash) this.onFlash();
        break;
      case 'result':
        if (this.onResult) this.onResult(msg);
        break;
      case 'error':
        this.fatal(this.serverError(msg.code, msg.message));
        break;
      default:
        break;
    }
  }

  onClose(ev) {
    if (this.gotResult || this.finished) return;
    this.fatal(this.closeError(ev.code));
  }

  // runFlashes shows each colour full screen and reports when it was
  // painted. A colour set inside a frame callback reaches the screen with
  // that frame, whose presentation is (to a frame) the timestamp of the next
  // callback: that second timestamp is what the server gets. The next colour
  // is set one frame before the current one's duration is over, so that it
  // lands on the frame closest to the end of that duration.
  runFlashes() {
    const colors = ((this.challenge && this.challenge.colors) || []).map((c) => ({
      rgb: (Array.isArray(c.color) ? c.color : [0, 0, 0]).map((v) => Math.max(0, Math.min(255, Number(v) | 0))),
      dur: Math.max(0, Number(c.durationMs) || 0),
    }));
    this.emit('flashing', { progress: 0.4, colorIndex: -1, colorCount: colors.length });
    this.announce(this.t.flashing);
    const total = colors.reduce((sum, c) => sum + c.dur, 0) || 1;
    const el = this.flashEl;
    return new Promise((resolve) => {
      let i = -1;
      let pending = false;
      let paintedAt = 0;
      let elapsed = 0;
      let frameMs = 1000 / 60;
      let lastTs = 0;
      const finish = (ts) => {
        this.send({ type: 'end', at: ts - this.t0 });
        this.ended = true;
        el.classList.remove('lv-flash-on');
        el.style.backgroundColor = '';
        delete el.dataset.colorIndex;
        resolve();
      };
      const tick = (ts) => {
        if (this.finished) {
          resolve();
          return;
        }
        if (lastTs) frameMs = 0.8 * frameMs + 0.2 * Math.min(50, Math.max(4, ts - lastTs));
        lastTs = ts;
        if (pending) {
          pending = false;
          paintedAt = ts;
          if (this.t0 < 0) this.t0 = ts;
          this.send({ type: 'color', index: i, at: ts - this.t0 });
          elapsed += colors[i].dur;
          const progress = 0.4 + 0.5 * (elapsed / total);
          this.setProgress(progress);
          this.emit('flashing', { progress, colorIndex: i, colorCount: colors.length });
        }
        const due = i < 0 || ts >= paintedAt + colors[i].dur - 1.5 * frameMs;
        if (!pending && due) {
          if (i + 1 >= colors.length) {
            // The last colour stays for its full duration.
            if (i < 0 || ts >= paintedAt + colors[i].dur) {
              finish(ts);
              return;
            }
          } else {
            i++;
            const [r, g, b] = colors[i].rgb;
            el.style.backgroundColor = `rgb(${r}, ${g}, ${b})`;
            el.style.color = (0.299 * r + 0.587 * g + 0.114 * b) > 140 ? '#111' : '#fff';
            el.dataset.colorIndex = String(i);
            el.classList.add('lv-flash-on');
            pending = true;
          }
        }
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });
  }

  // startCountdown gives the face until the last moment at which the
  // colours and the upload still fit in the server's time limit; the last
  // seconds are shown, then the SDK gives up with a message saying what to
  // do next time.
  startCountdown() {
    const limits = (this.challenge && this.challenge.limits) || {};
    const colorsMs = ((this.challenge && this.challenge.colors) || []).reduce((sum, c) => sum + (Number(c.durationMs) || 0), 0);
    // The capture ends at limits.maxDurationMs or after limits.maxFrames
    // frames, whichever comes first.
    const fps = Math.max(1, Math.min(30, Number(limits.fps) || DEFAULT_FPS));
    const frameMs = Number(limits.maxFrames) > 0 ? (Number(limits.maxFrames) / fps) * 1000 : Infinity;
    const limitMs = Math.min(Number(limits.maxDurationMs) || 30000, frameMs);
    const budget = Math.max(5000, limitMs - colorsMs - FIT_MARGIN_MS);
    this.fitDeadline = performance.now() + budget;
    const tick = () => {
      if (this.finished || this.flashed) return;
      const left = this.fitDeadline - performance.now();
      if (left <= 0) {
        this.giveUp();
        return;
      }
      if (left <= COUNTDOWN_SHOW_MS) {
        this.countdownEl.textContent = this.t.timeLeft.replace('{s}', String(Math.ceil(left / 1000)));
        this.root.dataset.countdown = String(Math.ceil(left / 1000));
      }
    };
    this.countdownTimer = setInterval(tick, 250);
    this.cleanups.push(() => this.stopCountdown());
  }

  stopCountdown() {
    clearInterval(this.countdownTimer);
    this.countdownEl.textContent = '';
    delete this.root.dataset.countdown;
  }

  giveUp() {
    this.stopCountdown();
    const t = this.t;
    const hint = this.approach === 'start' ? t.fitHints.start : t.fitHints.target;
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      try {
        this.ws.close(CLOSE_FIT_TIMEOUT, 'face did not fill the oval in time');
      } catch {
        /* already closing */
      }
    }
    this.fatal(new LivenessError('FACE_FIT_TIMEOUT', `${t.errors.FACE_FIT_TIMEOUT} ${hint}`));
  }

  cancel() {
    this.fatal(new LivenessError('CANCELLED', this.t.errors.CANCELLED));
  }

  fatal(err) {
    if (this.finished) return;
    if (this.rejectRun) this.rejectRun(err);
  }

  teardown() {
    this.finished = true;
    clearTimeout(this.frameTimer);
    this.stopCamera();
    this.flashEl.classList.remove('lv-flash-on');
    this.flashEl.style.backgroundColor = '';
    if (this.ws && this.ws.readyState <= WebSocket.OPEN) {
      try {
        this.ws.close(1000);
      } catch {
        /* already closed */
      }
    }
    this.cleanups.forEach((fn) => fn());
    this.cleanups = [];
  }

  // ---- main ---------------------------------------------------------------

  async run() {
    const t = this.t;
    this.mount();
    await this.cssReady;
    if (this.opts.signal) {
      const onAbort = () => this.cancel();
      if (this.opts.signal.aborted) throw new LivenessError('CANCELLED', t.errors.CANCELLED);
      this.opts.signal.addEventListener('abort', onAbort, { once: true });
      this.cleanups.push(() => this.opts.signal.removeEventListener('abort', onAbort));
    }
    try {
      await this.showIntro();
      // The camera comes before the socket: a denied camera must not use up
      // the one-time session, so "Try again" can reuse it.
      for (;;) {
        this.showWaiting('camera', t.requestingCamera, t.requestingCameraHelp);
        try {
          await this.openCamera();
          break;
        } catch (err) {
          if (!(err instanceof LivenessError) || !CAMERA_CODES.has(err.code)) throw err;
          this.emit('error', { error: { code: err.code, message: err.message } });
          await new Promise((resolve) => {
            this.showEnd('error', errorTitle(err.code, t), err.message, { label: t.tryAgain, fn: resolve });
            this.root.dataset.error = err.code;
          });
          delete this.root.dataset.error;
        }
      }
      this.root.classList.add('lv-has-video');
      this.showWaiting('connecting', t.connecting);
      this.setProgress(0.1);
      const result = await new Promise((resolve, reject) => {
        this.rejectRun = reject;
        this.live_(resolve, reject);
      });
      return result;
    } finally {
      this.rejectRun = null;
    }
  }

  // live_ is the socket phase: challenge, positioning, flashes, verdict.
  async live_(resolve, reject) {
    const t = this.t;
    try {
      this.challenge = await this.connect();
      if (this.finished) return;
      this.emit('positioning', { progress: 0.15, guidance: '', inOval: false, approach: this.approach, fill: 0 });
      this.setProgress(0.15);
      this.announce(t.startPositioning);
      this.showCaptureControls();
      this.updateMeter();
      this.drawOval();
      this.startCountdown();
      const flashed = new Promise((res) => { this.onFlash = res; });
      const verdict = new Promise((res) => {
        this.onResult = (msg) => {
          this.gotResult = true;
          res(msg);
        };
      });
      this.startFrames();
      const overall = Number(this.challenge.limits && this.challenge.limits.maxDurationMs) || 60000;
      const deadline = setTimeout(() => this.fatal(new LivenessError('TIMEOUT', t.errors.TIMEOUT)), overall + RESULT_TIMEOUT_MS);
      this.cleanups.push(() => clearTimeout(deadline));
      await flashed;
      await this.runFlashes();
      if (this.finished) return;
      this.stopFrames = true;
      clearTimeout(this.frameTimer);
      this.root.classList.remove('lv-has-video');
      this.showWaiting('analysing', t.analysing, t.analysingHelp);
      this.setProgress(0.95);
      const msg = await verdict;
      resolve({ status: msg.status === 'SUCCEEDED' ? 'SUCCEEDED' : 'FAILED', sessionId: this.opts.sessionId });
    } catch (err) {
      reject(err);
    }
  }
}

/**
 * Runs one liveness check in options.element and resolves with
 * { status: 'SUCCEEDED' | 'FAILED', sessionId } once the result screen shows.
 * Rejects with a LivenessError (err.code) on camera, session or network
 * failures, after showing a clear message in the element.
 */
export async function start(options) {
  const opts = { ...(options || {}) };
  const t = resolveStrings(opts.locale, opts.strings);
  if (!opts.element || !(opts.element instanceof Element) || !opts.sessionId || !opts.clientToken) {
    throw new LivenessError('INVALID_OPTIONS', `${t.errors.INVALID_OPTIONS} (element, sessionId and clientToken are required)`);
  }
  opts.serverUrl = opts.serverUrl || defaultServerUrl();
  const cap = new Capture(opts);
  const retryFn = typeof opts.onRetry === 'function'
    ? (info) => ({ label: t.startNewCheck, fn: () => opts.onRetry(info) })
    : () => null;
  try {
    const result = await cap.run();
    cap.teardown();
    cap.emit('done', { progress: 1, status: result.status });
    cap.setProgress(1);
    if (result.status === 'SUCCEEDED') {
      cap.showEnd('success', t.succeededTitle, t.succeededText, null);
    } else {
      cap.showEnd('failed', t.failedTitle, t.failedText, retryFn({ sessionId: opts.sessionId, status: result.status }));
    }
    return result;
  } catch (err) {
    const e = err instanceof LivenessError ? err : new LivenessError('SERVER_ERROR', t.errors.SERVER_ERROR, err);
    if (cap.root) {
      cap.teardown();
      cap.emit('error', { error: { code: e.code, message: e.message } });
      cap.root.dataset.error = e.code;
      cap.showEnd('error', errorTitle(e.code, t), e.message, retryFn({ sessionId: opts.sessionId, error: e }));
    }
    throw e;
  }
}

/** The SDK's public object: `Liveness.start(options)`. */
export const Liveness = Object.freeze({
  start,
  version: VERSION,
  LivenessError,
  locales: Object.freeze(Object.keys(STRINGS)),
  strings: (locale) => resolveStrings(locale),
});

export default Liveness;
