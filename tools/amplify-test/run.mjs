// Drives the unmodified Amplify FaceLivenessDetectorCore (built into dist/
// by Vite) against a running livenessd in headless Chromium, and checks the
// verdicts livenessd stored. Run by scripts/test-amplify.sh, which starts
// livenessd with TLS and passes:
//   LIVENESSD_URL   https://localhost:PORT
//   LIVENESSD_KEY   an API key (the app backend's)
//   FACE_JPG        the face photo for the answering camera
//   APPROACH_Y4M    the recorded approach for Chromium's file camera
//   ARTIFACTS       directory for screenshots and the summary
//   CHROMIUM        the browser (default /usr/bin/chromium)
//   SCENARIOS       optional comma list: answering,recorded,unknown
import { chromium } from 'playwright-core';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const env = (name, def) => {
  const v = process.env[name] ?? def;
  if (v === undefined) throw new Error(`${name} is not set`);
  return v;
};
const endpoint = env('LIVENESSD_URL');
const apiKey = env('LIVENESSD_KEY');
const faceJpg = env('FACE_JPG');
const approachY4m = env('APPROACH_Y4M', '');
const artifacts = env('ARTIFACTS');
const chromiumPath = env('CHROMIUM', '/usr/bin/chromium');
const scenarios = env('SCENARIOS', 'answering,recorded,unknown').split(',');
// The largest face of sample5.jpg (@vladmandic/face-api demo photo, pinned
// by sha256 in internal/models), as livenessd's detector finds it.
const faceBox = { x: 378, y: 870, w: 182, h: 302 };

// livenessd's API calls run in node, which must trust the self-signed
// development certificate: it is passed as NODE_EXTRA_CA_CERTS.
async function api(method, p, body) {
  const res = await fetch(endpoint + p, {
    method,
    headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = { raw: text };
  }
  return { status: res.status, json };
}

// A static server for the built page and the face photo (the page's own
// origin, http://localhost, is a secure context for getUserMedia).
function serveStatic() {
  const dist = path.join(here, 'dist');
  const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.jpg': 'image/jpeg', '.svg': 'image/svg+xml' };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    let file = url.pathname === '/face.jpg' ? faceJpg : path.join(dist, url.pathname === '/' ? 'index.html' : url.pathname);
    if (!file.startsWith(dist) && file !== faceJpg) {
      res.writeHead(404).end();
      return;
    }
    fs.readFile(file, (err, data) => {
      if (err) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'Content-Type': types[path.extname(file)] ?? 'application/octet-stream' }).end(data);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const baseArgs = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--use-fake-ui-for-media-stream', '--ignore-certificate-errors',
  '--disable-background-timer-throttling', '--disable-renderer-backgrounding',
];

async function runScenario(name, pageBase, { sessionId, token, camera, y4m, expect }) {
  const dir = path.join(artifacts, name);
  fs.mkdirSync(dir, { recursive: true });
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'amplify-chromium-'));
  const args = [...baseArgs];
  if (y4m) args.push('--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${y4m}`);
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    args,
    viewport: { width: 900, height: 900 },
    ignoreHTTPSErrors: true,
  });
  const started = Date.now();
  const log = [];
  try {
    if (camera) {
      const cam = fs.readFileSync(path.join(here, 'camera.js'), 'utf8').trim().replace(/;$/, '');
      await context.addInitScript({ content: `(${cam})(${JSON.stringify({ faceUrl: '/face.jpg', src: faceBox })})` });
    }
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (m) => log.push(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => log.push(`pageerror: ${e.message}`));
    const q = new URLSearchParams({ endpoint, session: sessionId, token });
    await page.goto(`${pageBase}/?${q}`);
    let shot = 0;
    let outcome = null;
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      outcome = await page.evaluate(() => window.__amplify ?? null);
      const cam = camera ? await page.evaluate(() => window.__camera && { phase: window.__camera.phase, hint: window.__camera.hint, frames: window.__camera.frames, light: window.__camera.light.map((v) => +v.toFixed(2)) }) : null;
      await page.screenshot({ path: path.join(dir, `${String(shot++).padStart(2, '0')}.png`) });
      if (cam) log.push(`[${((Date.now() - started) / 1000).toFixed(1)}s] camera ${JSON.stringify(cam)}`);
      if (outcome) break;
      await page.waitForTimeout(2500);
    }
    await page.waitForTimeout(500);
    await page.screenshot({ path: path.join(dir, `${String(shot++).padStart(2, '0')}-final.png`) });
    return { outcome, seconds: (Date.now() - started) / 1000, log };
  } finally {
    fs.writeFileSync(path.join(dir, 'console.log'), log.join('\n') + '\n');
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

async function waitFinal(sessionId) {
  for (let i = 0; i < 100; i++) {
    const r = await api('GET', `/v1/liveness/session/${sessionId}/aws-results`);
    if (['SUCCEEDED', 'FAILED', 'EXPIRED'].includes(r.json.Status)) return r.json;
    await new Promise((res) => setTimeout(res, 200));
  }
  return (await api('GET', `/v1/liveness/session/${sessionId}/aws-results`)).json;
}

async function main() {
  fs.mkdirSync(artifacts, { recursive: true });
  const server = await serveStatic();
  const pageBase = `http://localhost:${server.address().port}`;
  const results = [];
  let failed = false;
  for (const name of scenarios) {
    let sessionId;
    let token = 'none';
    if (name === 'unknown') {
      sessionId = crypto.randomUUID();
    } else {
      const r = await api('POST', '/v1/liveness/session', { settings: { auditImagesLimit: 2 } });
      if (r.status !== 200) throw new Error(`create session: ${r.status} ${JSON.stringify(r.json)}`);
      ({ sessionId, clientToken: token } = r.json);
    }
    const opts = {
      answering: { camera: true, expect: { component: 'done', status: 'SUCCEEDED' } },
      recorded: { y4m: approachY4m, expect: { component: 'done', status: 'FAILED' } },
      unknown: { camera: true, expect: { component: 'SERVER_ERROR' } },
    }[name];
    if (!opts) throw new Error(`unknown scenario ${name}`);
    const run = await runScenario(name, pageBase, { sessionId, token, ...opts });
    const got = { scenario: name, sessionId, seconds: run.seconds, component: run.outcome };
    if (name !== 'unknown') {
      const aws = run.outcome?.done ? await waitFinal(sessionId) : (await api('GET', `/v1/liveness/session/${sessionId}/aws-results`)).json;
      got.status = aws.Status;
      got.confidence = aws.Confidence;
      const res = await api('GET', `/v1/liveness/session/${sessionId}/results`);
      got.reason = res.json.details?.reason ?? res.json.message;
      got.signals = res.json.details?.signals;
    }
    const componentOK = opts.expect.component === 'done' ? run.outcome?.done === true : run.outcome?.error === opts.expect.component;
    const statusOK = !opts.expect.status || got.status === opts.expect.status;
    got.ok = componentOK && statusOK;
    failed ||= !got.ok;
    results.push(got);
    console.log(`${got.ok ? 'ok  ' : 'FAIL'} ${name}: component ${JSON.stringify(run.outcome)}${got.status ? `, session ${got.status} (confidence ${got.confidence}, ${got.reason ?? ''})` : ''} in ${run.seconds.toFixed(1)} s`);
    if (got.signals) console.log(`     signals ${JSON.stringify(got.signals)}`);
    if (!got.ok) console.log(run.log.slice(-40).join('\n'));
  }
  fs.writeFileSync(path.join(artifacts, 'summary.json'), JSON.stringify(results, null, 2) + '\n');
  server.close();
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  process.exit(2);
});
