// Shared helpers of the browser tests: the running livenessd (started by
// scripts/test-browser.sh), a fresh headless Chromium per test, test images
// cut from the sample photos with ffmpeg, screenshots.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));

function need(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the browser tests through scripts/test-browser.sh`);
  return v;
}

export const env = {
  url: need('LIVENESS_URL'),
  apiKey: need('LIVENESS_API_KEY'),
  artifacts: need('LIVENESS_ARTIFACTS'),
  samples: need('LIVENESS_SAMPLES'),
  work: need('LIVENESS_TEST_TMP'),
  chromium: process.env.CHROMIUM || '/usr/bin/chromium',
  // A second server whose sessions expire after a few seconds (expiry test).
  shortUrl: process.env.LIVENESS_SHORT_URL || '',
  // A third that takes one capture at a time (refused-upgrade test).
  busyUrl: process.env.LIVENESS_BUSY_URL || '',
};

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Launches headless Chromium with a fresh profile; returns { context, page, close }. */
export async function launch({ args = [], permissions = [], viewport = { width: 1100, height: 900 }, isMobile = false, deviceScaleFactor = 1, camera = null } = {}) {
  const profile = mkdtempSync(join(env.work, 'profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: env.chromium,
    headless: true,
    chromiumSandbox: false,
    args: [...CHROMIUM_FLAGS, ...args],
    ignoreDefaultArgs: ['--enable-automation'],
    viewport,
    isMobile,
    hasTouch: isMobile,
    deviceScaleFactor,
    permissions,
    locale: 'en-US',
  });
  if (camera) {
    await context.addInitScript({ content: `window.__lvCamera = ${JSON.stringify(camera)};` });
    await context.addInitScript({ path: join(here, 'camera.js') });
  }
  const page = context.pages()[0] || await context.newPage();
  const logs = [];
  page.on('console', (m) => logs.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`[pageerror] ${e.message}`));
  return {
    context,
    page,
    logs,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

const shotsTaken = [];
/** Saves a screenshot as test-artifacts/browser/NAME.png. */
export async function shot(page, name, opts = {}) {
  mkdirSync(env.artifacts, { recursive: true });
  const path = join(env.artifacts, `${name}.png`);
  await page.screenshot({ path, ...opts });
  shotsTaken.push(name);
  return path;
}

/** Calls the public API with the test key. */
export async function api(method, path, body, base = env.url) {
  const res = await fetch(base + path, {
    method,
    headers: { Authorization: `Bearer ${env.apiKey}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
  return json;
}

export function createSession(base = env.url) {
  return api('POST', '/v1/liveness/session', { settings: { auditImagesLimit: 4 } }, base);
}

export function captureURL(s, base = env.url, extra = '') {
  return `${base}/capture?session=${encodeURIComponent(s.sessionId)}&token=${encodeURIComponent(s.clientToken)}${extra}`;
}

// The face: the middle person of sample3.jpg (a real photo from
// @vladmandic/face-api), cut without the two people beside her.
const FACE_SAMPLE = 'sample3.jpg';
const FACE_CROP = { w: 600, h: 600, x: 880, y: 100 }; // face centre (315, 255), half width 120, half height 150 inside
const FACE = { cx: 315, cy: 255, halfWidth: 120, halfHeight: 150 };
const BACKGROUND_CROP = { w: 480, h: 360, x: 0, y: 0 }; // windows and a bar, no faces

function ffmpeg(args) {
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
}

let assetsCache = null;
/** Test images made from the sample photos into the temp dir (never committed). */
export function assets() {
  if (assetsCache) return assetsCache;
  const src = join(env.samples, FACE_SAMPLE);
  if (!existsSync(src)) throw new Error(`${src} is missing: run make models`);
  const face = join(env.work, 'face.jpg');
  const background = join(env.work, 'background.jpg');
  const documentPhoto = join(env.work, 'id-document.jpg');
  const c = FACE_CROP;
  ffmpeg(['-i', src, '-vf', `crop=${c.w}:${c.h}:${c.x}:${c.y}`, '-q:v', '2', face]);
  const b = BACKGROUND_CROP;
  ffmpeg(['-i', src, '-vf', `crop=${b.w}:${b.h}:${b.x}:${b.y},scale=640:480,boxblur=6`, '-q:v', '3', background]);
  // An ID-style portrait of the same person: tighter, smaller, paler colours.
  ffmpeg(['-i', src, '-vf', 'crop=330:420:1030:120,scale=264:336,eq=saturation=0.6:contrast=1.05', '-q:v', '4', documentPhoto]);
  const dataURL = (p) => `data:image/jpeg;base64,${readFileSync(p).toString('base64')}`;
  assetsCache = {
    face,
    background,
    documentPhoto,
    // Reflection gain at full screen colour (where the face faces the
    // screen; less towards the contour). 10% is what a laptop or phone
    // screen at 30-40 cm gives a face in a dim room; daylight gives far
    // less (docs/ACCURACY.md).
    camera: (reflect = Number(process.env.LIVENESS_TEST_REFLECT || 0.1)) => ({
      photo: dataURL(face),
      background: dataURL(background),
      face: FACE,
      reflect,
      fps: 30,
    }),
  };
  return assetsCache;
}

/**
 * A recorded approach of the same face for Chromium's file camera: far →
 * zooming in → close, 15 fps, as a Y4M file in the temp dir.
 */
export function replayVideo() {
  const src = join(env.samples, FACE_SAMPLE);
  const out = join(env.work, 'approach.y4m');
  if (existsSync(out)) return out;
  // 640x480 around the face (no other face inside), padded to 1280x960 so
  // that zoom 1 shows the face small; zoompan then zooms to 2.6x on it.
  const frames = 120; // 8 s
  ffmpeg([
    '-loop', '1', '-framerate', '15', '-i', src,
    '-vf', [
      'crop=640:480:875:120',
      'pad=1280:960:320:240:color=0x3a3f47',
      `zoompan=z='min(1+1.6*on/${frames - 30},2.6)':x='iw/2-iw/zoom/2':y='ih/2-ih/zoom/2-10*(zoom-1)':d=1:s=640x480:fps=15`,
      'format=yuv420p',
    ].join(','),
    '-frames:v', String(frames), '-f', 'yuv4mpegpipe', out,
  ]);
  return out;
}

/** Waits for the SDK's stage (data-liveness-stage on its element). */
export async function waitStage(page, stage, timeout = 30000, host = '[data-livenessd]') {
  const stages = Array.isArray(stage) ? stage : [stage];
  await page.waitForFunction(({ sel, st }) => {
    const el = document.querySelector(sel);
    return el && st.includes(el.dataset.livenessStage);
  }, { sel: host, st: stages }, { timeout, polling: 50 });
  return page.evaluate((sel) => document.querySelector(sel).dataset.livenessStage, host);
}
