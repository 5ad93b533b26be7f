// The demo page end to end: create a session, capture with the test camera,
// read the results, upload an ID photo of the same person, see the match.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, shot, assets, waitStage, env } from '../lib/harness.js';

test('demo: session, capture, results, document match', async () => {
  const a = assets();
  const b = await launch({ camera: a.camera(), permissions: ['camera'], viewport: { width: 1180, height: 900 } });
  try {
    const { page } = b;
    await page.goto(`${env.url}/demo`);
    await page.locator('#btn-create').waitFor();
    await shot(page, 'd1-demo-start');
    await page.locator('#btn-create').click();
    await page.locator('#liveness [data-action=start]').waitFor({ timeout: 15000 });
    assert.match(await page.locator('#fact-session').innerText(), /^[0-9a-f-]{36}$/);
    await shot(page, 'd2-demo-session-created');
    await page.locator('#liveness [data-action=start]').click();
    await waitStage(page, 'positioning', 20000, '#liveness');
    await page.waitForTimeout(1500);
    await shot(page, 'd3-demo-capture');
    const stage = await waitStage(page, ['done', 'error'], 90000, '#liveness');
    const panel = await page.evaluate(() => document.querySelector('#liveness').shadowRoot.querySelector('.lv-panel').innerText);
    assert.equal(stage, 'done', `capture ended in ${stage}: ${panel}`);
    await page.locator('#results [data-status]').waitFor({ timeout: 20000 });
    const status = await page.locator('#results [data-status]').getAttribute('data-status');
    const reason = await page.locator('.result-reason').innerText().catch(() => '');
    // The signals the demo page shows, logged for every run.
    const signals = await page.locator('.signals tbody').innerText().catch(() => '');
    console.log(`demo capture ${status}: ${reason}; signals: ${signals.replace(/\s+/g, ' ')}`);
    if (status !== 'SUCCEEDED') await shot(page, 'd3-demo-failed', { fullPage: true });
    assert.equal(status, 'SUCCEEDED', `the demo capture succeeded (reason: ${reason})`);
    await page.locator('#ref-img').waitFor();
    const refOK = await page.evaluate(() => document.getElementById('ref-img').naturalWidth > 0);
    assert.ok(refOK, 'the reference image decodes');
    assert.ok(await page.locator('.signals tbody tr').count() > 0, 'signals are listed');
    await page.locator('#step-results').scrollIntoViewIfNeeded();
    await shot(page, 'd4-demo-results', { fullPage: true });

    await page.setInputFiles('#doc-file', a.documentPhoto);
    await page.locator('#btn-verify').click();
    await page.locator('#match [data-overall]').waitFor({ timeout: 30000 });
    // The scan before the match shows the portrait it extracted.
    await page.locator('#doc-fields [data-scan]').waitFor({ timeout: 30000 });
    assert.ok(await page.evaluate(() => document.getElementById('scan-photo').naturalWidth > 0), 'the scanned portrait decodes');
    assert.equal(await page.locator('#match [data-overall]').getAttribute('data-overall'), 'true');
    assert.equal(await page.locator('#match [data-match]').getAttribute('data-match'), 'true');
    await page.locator('#step-document').scrollIntoViewIfNeeded();
    await shot(page, 'd5-demo-document-match', { fullPage: true });
    await page.locator('.trace summary').click();
    assert.ok(await page.locator('.trace-list li').count() >= 3, 'the API trace lists the calls');
  } finally {
    await b.close();
  }
});
