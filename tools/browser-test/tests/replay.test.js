// The replay/injection attack: Chromium's own file camera plays a recording
// of a real face coming closer. It can satisfy the framing checks, but it
// cannot answer a colour sequence it did not know: the verdict is FAILED.
// Runs in a phone's portrait viewport.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, shot, createSession, captureURL, waitStage, replayVideo, env } from '../lib/harness.js';

test('a recorded approach played by the file camera: FAILED', async () => {
  const video = replayVideo();
  const b = await launch({
    args: ['--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${video}`, '--use-fake-ui-for-media-stream'],
    permissions: ['camera'],
    viewport: { width: 390, height: 844 },
    isMobile: true,
    deviceScaleFactor: 2,
    camera: { observeOnly: true },
  });
  try {
    const { page } = b;
    const s = await createSession();
    await page.goto(captureURL(s));
    await page.locator('[data-action=start]').waitFor();
    await shot(page, 'b1-replay-intro-mobile');
    await page.locator('[data-action=start]').tap();
    await waitStage(page, 'positioning', 20000);
    await page.waitForFunction(() => window.__lvCameraSeen.guidanceLog.length > 0, null, { timeout: 20000 });
    await page.waitForTimeout(1500);
    await shot(page, 'b2-replay-positioning-mobile');
    const stage = await waitStage(page, ['flashing', 'done', 'error'], 90000);
    if (stage === 'flashing') {
      await page.waitForTimeout(400);
      await shot(page, 'b3-replay-flash-mobile');
    }
    const end = await waitStage(page, ['done', 'error'], 90000);
    await shot(page, 'b4-replay-result-mobile');
    const seen = await page.evaluate(() => window.__lvCameraSeen);
    assert.equal(end, 'done', `the capture must end with a verdict, not an error (${JSON.stringify(seen.error)}; guidance ${seen.guidanceLog.join(',')})`);
    assert.equal(seen.result, 'FAILED');
    assert.ok(seen.flash, 'the replay satisfied the framing checks (the server started the flashes)');
    const panel = await page.evaluate(() => document.querySelector('[data-livenessd]').shadowRoot.querySelector('.lv-panel').innerText);
    assert.match(panel, /could not verify you/);
  } finally {
    await b.close();
  }
});
