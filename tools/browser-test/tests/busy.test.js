// A busy server refuses the stream's upgrade (503 before the upgrade, the
// session left usable): the SDK opens it again with the same session.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, shot, assets, createSession, captureURL, waitStage, api, env } from '../lib/harness.js';

// refusals reads the server's count of captures refused at the door.
async function refusals(base) {
  const text = await (await fetch(`${base}/metrics`)).text();
  const m = text.match(/^livenessd_capture_refusals_total (\S+)$/m);
  assert.ok(m, 'livenessd_capture_refusals_total in /metrics');
  return Number(m[1]);
}

test('busy server: a refused upgrade is tried again with the same session', async () => {
  assert.ok(env.busyUrl, 'LIVENESS_BUSY_URL (a server with --max-captures 1) is set');
  const a = assets();
  const b = await launch({ camera: a.camera(), permissions: ['camera'] });
  try {
    const { page, context } = b;
    // Another capture holds the server's only slot.
    const holder = await createSession(env.busyUrl);
    const other = await context.newPage();
    await other.goto(`${env.busyUrl}/readyz`);
    await other.evaluate(({ id, token }) => new Promise((resolve, reject) => {
      const u = new URL(`/v1/liveness/session/${encodeURIComponent(id)}/stream`, location.href);
      u.protocol = 'ws:';
      u.searchParams.set('token', token);
      window.__holder = new WebSocket(u.href, 'livenessd.v1');
      window.__holder.addEventListener('message', () => resolve(), { once: true });
      window.__holder.addEventListener('close', (e) => reject(new Error(`holder closed ${e.code}`)), { once: true });
      window.__holder.addEventListener('open', () => window.__holder.send(JSON.stringify({ type: 'hello', width: 640, height: 480 })));
    }), { id: holder.sessionId, token: holder.clientToken });
    const before = await refusals(env.busyUrl);

    const s = await createSession(env.busyUrl);
    await page.goto(captureURL(s, env.busyUrl, '&locale=en'));
    await page.locator('[data-action=start]').click();
    // The SDK's first upgrade is refused (503); then the slot frees.
    const deadline = Date.now() + 20000;
    while (await refusals(env.busyUrl) === before) {
      assert.ok(Date.now() < deadline, 'the server refused no upgrade within 20 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    await other.evaluate(() => window.__holder.close());
    await waitStage(page, 'positioning', 20000);
    const retries = await page.evaluate(() => document.querySelector('[data-livenessd]').shadowRoot.querySelector('.lv-root').dataset.connectRetries);
    assert.ok(Number(retries) >= 1, `the SDK retried (${retries})`);
    await shot(page, 'c5-busy-server-retried');
    const st = await api('GET', `/v1/liveness/session/${s.sessionId}/results`, undefined, env.busyUrl);
    assert.equal(st.status, 'IN_PROGRESS', 'the same session is capturing');
    await page.locator('[data-action=cancel]').click();
    await waitStage(page, 'error', 5000);
  } finally {
    await b.close();
  }
});
