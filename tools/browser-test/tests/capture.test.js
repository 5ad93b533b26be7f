// The SDK through the hosted capture page: a live face that answers the
// challenge, a denied camera, an expired session.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { launch, shot, assets, createSession, captureURL, waitStage, api, env } from '../lib/harness.js';

// shopServer serves a customer's checkout page that embeds /capture in an
// iframe and records the messages it posts.
async function shopServer() {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop checkout</title></head>
    <body style="font-family: system-ui, sans-serif; margin: 24px; background: #fafafa; color: #111">
    <h1 style="font-size: 20px; margin: 0 0 12px">Checkout — verify your identity</h1>
    <iframe id="kyc" title="Identity check" allow="camera" style="width: 700px; height: 660px; border: 1px solid #ddd; border-radius: 12px; background: #fff"></iframe>
    <script>window.__messages = []; addEventListener('message', (e) => window.__messages.push(e.data));</script>
    </body></html>`;
  const server = createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${server.address().port}/` };
}

const sdkText = (page, sel = '[data-livenessd]') => page.evaluate((s) => {
  const host = document.querySelector(s);
  return host && host.shadowRoot ? host.shadowRoot.querySelector('.lv-panel').innerText : '';
}, sel);

// stalls returns how far the colour onsets the SDK reported stray from the
// challenge's durations (ms): a frozen page (an overloaded machine) shows
// here, and the server rightly refuses such timing.
function stalls(seen) {
  const colors = seen.sent.texts.filter((m) => m.type === 'color');
  const durs = seen.challenge.colors.map((c) => c.durationMs);
  return colors.slice(1).map((c, i) => Math.round(c.at - colors[i].at - durs[i]));
}

async function liveCapture(page, attempt) {
  const s = await createSession();
  await page.goto(captureURL(s, env.url, '&locale=en'));
  const startBtn = page.locator('[data-action=start]');
  await startBtn.waitFor();
  // Keyboard: the start button has the focus and Enter starts the check.
  await page.waitForFunction(() => document.querySelector('[data-livenessd]').shadowRoot.activeElement?.dataset.action === 'start', null, { timeout: 5000 });
  assert.match(await sdkText(page), /Photosensitivity warning/);
  await shot(page, 'a1-capture-intro');
  await page.keyboard.press('Enter');

  await waitStage(page, 'positioning', 20000);
  await page.waitForFunction(() => window.__lvCameraSeen.guidanceLog.length > 0, null, { timeout: 20000 });
  await page.waitForTimeout(800);
  await shot(page, 'a2-capture-positioning');
  const live = await page.evaluate(() => document.querySelector('[data-livenessd]').shadowRoot.querySelector('[aria-live]').textContent);
  assert.ok(live.length > 0, 'the aria-live region tells what to do');

  await waitStage(page, 'flashing', 45000);
  await page.waitForFunction(() => {
    const el = document.querySelector('[data-livenessd]').shadowRoot.querySelector('.lv-flash');
    return el.classList.contains('lv-flash-on') && el.dataset.colorIndex === '1';
  }, null, { timeout: 10000, polling: 20 });
  await shot(page, 'a3-capture-flash');

  const stage = await waitStage(page, ['done', 'error'], 60000);
  await shot(page, 'a4-capture-result');
  const seen = await page.evaluate(() => window.__lvCameraSeen);
  const r = await api('GET', `/v1/liveness/session/${s.sessionId}/results`).catch((e) => ({ error: e.message }));
  const off = stalls(seen);
  const why = JSON.stringify({ status: r.status, confidence: r.confidence, details: r.details, message: r.message, error: r.error, guidance: seen.guidanceLog.join(','), colourTimingOffMs: off });
  console.log(`attempt ${attempt} results: ${why}`);
  assert.equal(stage, 'done', `SDK ended in ${stage}: ${await sdkText(page)} ${JSON.stringify(seen.error)}`);
  return { s, seen, r, why, off };
}

test('a live face answers the challenge: SUCCEEDED through the real SDK, WebSocket and analysis', async () => {
  const a = assets();
  const b = await launch({ camera: a.camera(), permissions: ['camera'] });
  try {
    const { page } = b;
    // A second capture only when the page froze during the colours (an
    // overloaded machine: the onsets the SDK reports stray from the
    // challenge and the server rightly refuses the timing). Any verdict
    // on a capture with sound timing counts at once.
    let run;
    for (let attempt = 1; attempt <= 2; attempt++) {
      run = await liveCapture(page, attempt);
      const reason = run.r.details && run.r.details.reason;
      const froze = run.off.some((d) => Math.abs(d) > 150);
      if (run.seen.result === 'SUCCEEDED' || !froze) break;
      console.log(`attempt ${attempt} FAILED (${reason}; colour onsets off by ${run.off.join(', ')} ms: the page froze)`);
    }
    const { seen, r, why } = run;
    assert.match(await sdkText(page), /Check complete/, why);
    assert.equal(seen.result, 'SUCCEEDED', `server verdict ${seen.result}`);

    // What the SDK sent: JPEG frames with timestamps, at about 15 fps, each
    // colour once with increasing times, then end.
    const { sent } = seen;
    assert.equal(sent.badFrames, 0, 'every binary message is an 8-byte timestamp and a JPEG');
    const seconds = (sent.lastAt - sent.firstAt) / 1000;
    const fps = (sent.frames - 1) / seconds;
    assert.ok(fps > 6 && fps < 17, `frame rate ${fps.toFixed(1)} fps`);
    const colors = sent.texts.filter((m) => m.type === 'color');
    assert.equal(colors.length, seen.colors, 'one color message per challenge colour');
    colors.forEach((c, i) => assert.equal(c.index, i));
    for (let i = 1; i < colors.length; i++) assert.ok(colors[i].at > colors[i - 1].at, 'colour times increase');
    assert.equal(sent.texts[sent.texts.length - 1].type, 'end');
    assert.equal(sent.texts[0].type, 'hello');
    console.log(`capture: ${sent.frames} frames in ${seconds.toFixed(1)} s (${fps.toFixed(1)} fps), largest ${sent.maxBytes} B, ${colors.length} colours, onsets off by ${run.off.join(', ')} ms`);

    assert.equal(r.status, 'SUCCEEDED', why);
    assert.equal(r.isLive, true);
  } finally {
    await b.close();
  }
});

test('camera denied: a clear message, and "Try again" works once allowed', async () => {
  const b = await launch({ args: ['--use-fake-device-for-media-stream'] });
  try {
    const { page, context } = b;
    const s = await createSession();
    await page.goto(captureURL(s));
    await page.locator('[data-action=start]').click();
    await page.waitForFunction(() => document.querySelector('[data-livenessd]').shadowRoot.querySelector('.lv-root').dataset.error, null, { timeout: 20000 });
    const code = await page.evaluate(() => document.querySelector('[data-livenessd]').shadowRoot.querySelector('.lv-root').dataset.error);
    assert.equal(code, 'CAMERA_DENIED');
    assert.match(await sdkText(page), /Camera access was blocked/);
    await shot(page, 'c1-camera-denied');

    // The session was not used: allowing the camera and retrying continues.
    await context.grantPermissions(['camera'], { origin: env.url });
    await page.locator('[data-action=retry]').click();
    await waitStage(page, ['connecting', 'positioning'], 20000);
    await waitStage(page, 'positioning', 20000);
    await page.waitForTimeout(500);
    await shot(page, 'c2-camera-allowed-after-retry');
    // Cancel ends the check with its own message.
    await page.locator('[data-action=cancel]').click();
    await waitStage(page, 'error', 5000);
    const cancelled = await page.evaluate(() => document.querySelector('[data-livenessd]').shadowRoot.querySelector('.lv-root').dataset.error);
    assert.equal(cancelled, 'CANCELLED');
    assert.match(await sdkText(page), /cancelled/);
  } finally {
    await b.close();
  }
});

test('session expired: a clear message, the parent frame hears it, and a new session starts over', async () => {
  assert.ok(env.shortUrl, 'LIVENESS_SHORT_URL (a server with --session-ttl 2s) is set');
  const a = assets();
  const b = await launch({ camera: a.camera(), permissions: ['camera'], viewport: { width: 760, height: 820 } });
  const shop = await shopServer();
  try {
    const { page } = b;
    const s = await createSession(env.shortUrl);
    await new Promise((r) => setTimeout(r, 2600)); // past its two-second TTL
    // A customer's page, on its own origin, embedding the capture page.
    await page.goto(shop.url);
    await page.evaluate((url) => { document.getElementById('kyc').src = url; }, captureURL(s, env.shortUrl, '&locale=fr'));
    const frame = page.frameLocator('#kyc');
    await frame.locator('[data-action=start]').click();
    await page.waitForFunction(() => window.__messages.some((m) => m.type === 'livenessd:error'), null, { timeout: 30000 });
    const err = await page.evaluate(() => window.__messages.find((m) => m.type === 'livenessd:error'));
    assert.equal(err.code, 'SESSION_EXPIRED');
    const text = await frame.locator('.lv-end-text').innerText();
    assert.match(text, /a expiré/, 'French message');
    await shot(page, 'c3-session-expired-fr');

    await frame.locator('[data-action=retry]').click();
    await page.waitForFunction(() => window.__messages.some((m) => m.type === 'livenessd:retry'), null, { timeout: 5000 });
    // The parent creates a new session and loads the page again.
    const s2 = await createSession(env.shortUrl);
    await page.evaluate((url) => { document.getElementById('kyc').src = url; }, captureURL(s2, env.shortUrl, '&locale=fr'));
    await frame.locator('[data-action=start]').waitFor();
    await shot(page, 'c4-retry-new-session');
  } finally {
    await b.close();
    shop.server.close();
  }
});
