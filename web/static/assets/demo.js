// The /demo page: the seed's KYC workflow in one page. The demo routes under
// /demo/api/ stand in for the customer's backend (they hold a demo API key);
// the capture itself goes straight from this page to livenessd through the SDK.
import { Liveness } from '/sdk/liveness.js';

const $ = (id) => document.getElementById(id);

// h builds an element; text goes through textContent only.
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const state = { session: null, results: null, running: false };

function setStep(id, s) {
  const el = $(id);
  el.dataset.state = s;
  if (s === 'locked') el.setAttribute('aria-disabled', 'true');
  else el.removeAttribute('aria-disabled');
}

// Public API endpoint behind each demo route, for the trace.
function apiFor(method, path) {
  if (path === '/demo/api/session') return 'POST /v1/liveness/session';
  if (path.startsWith('/demo/api/results/')) return `GET /v1/liveness/session/${path.split('/').pop()}/results`;
  if (path.startsWith('/demo/api/verify-with-document/')) return `POST /v1/liveness/verify-with-document/${path.split('/').pop()}`;
  if (path === '/demo/api/identity-scan') return 'POST /v1/identity/scan';
  return `${method} ${path}`;
}

async function call(method, path, body) {
  const started = performance.now();
  const res = await fetch(path, { method, body, headers: { Accept: 'application/json' }, cache: 'no-store' });
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  const ms = Math.round(performance.now() - started);
  const summary = data && typeof data === 'object' ? JSON.stringify(data, (k, v) => (typeof v === 'string' && v.length > 80 ? `${v.slice(0, 40)}… (${v.length} chars)` : v), 2) : '';
  $('trace').append(h('li', {},
    h('div', { class: 'trace-head' },
      h('span', { class: `pill ${res.ok ? 'pill-ok' : 'pill-bad'}` }, String(res.status)),
      h('code', {}, apiFor(method, path)),
      h('span', { class: 'trace-ms' }, `${ms} ms`)),
    summary ? h('pre', {}, summary) : null));
  if (!res.ok) {
    const msg = (data && (data.message || data.error)) || `${res.status} ${res.statusText}`;
    const err = new Error(msg);
    err.status = res.status;
    err.body = data;
    throw err;
  }
  return data;
}

function showError(id, text) {
  const el = $(id);
  el.textContent = text;
  el.hidden = !text;
}

async function createSession() {
  showError('session-error', '');
  const btn = $('btn-create');
  btn.disabled = true;
  btn.textContent = 'Creating…';
  try {
    const s = await call('POST', '/demo/api/session');
    state.session = s;
    $('fact-session').textContent = s.sessionId;
    $('fact-status').textContent = s.status || 'CREATED';
    $('fact-expiry').textContent = s.expiryDate ? new Date(s.expiryDate).toLocaleTimeString() : '—';
    $('session-facts').hidden = false;
    setStep('step-session', 'done');
    btn.textContent = 'Session created';
    startCapture();
  } catch (err) {
    btn.disabled = false;
    btn.textContent = 'Create session';
    showError('session-error', `Could not create a session: ${err.message}`);
  }
}

async function startCapture() {
  setStep('step-capture', 'active');
  $('step-capture').scrollIntoView({ behavior: 'smooth', block: 'start' });
  const { sessionId, clientToken } = state.session;
  try {
    const result = await Liveness.start({
      element: $('liveness'),
      sessionId,
      clientToken,
      serverUrl: location.origin,
      locale: $('locale').value,
      onRetry: () => restart(true),
    });
    $('fact-status').textContent = result.status;
    setStep('step-capture', 'done');
    await loadResults(sessionId);
  } catch (err) {
    $('fact-status').textContent = err.code || 'ERROR';
    $('btn-restart').hidden = false;
  }
}

// rank orders signals: failed graded ones, passed graded ones, reported values.
function rank(v) {
  if (!v || typeof v !== 'object' || typeof v.passed !== 'boolean') return 2;
  return v.passed ? 1 : 0;
}

function fmt(v) {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(3);
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  return String(v);
}

function meter(value, label, good) {
  const pct = Math.max(0, Math.min(100, Number(value) || 0));
  const fill = h('span', { class: 'meter-fill' });
  fill.style.width = `${pct}%`; // CSSOM, allowed by the page's style-src 'self'
  return h('div', { class: 'meter-wrap' },
    h('div', { class: 'meter-value' }, h('strong', {}, pct.toFixed(1)), h('span', {}, ' / 100')),
    h('div', { class: `meter ${good ? 'meter-good' : 'meter-bad'}`, role: 'meter', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': pct.toFixed(1), 'aria-label': label },
      fill),
    h('div', { class: 'meter-label' }, label));
}

function jpegSrc(b64) {
  if (!b64) return null;
  return b64.startsWith('data:') ? b64 : `data:image/jpeg;base64,${b64}`;
}

async function loadResults(sessionId) {
  setStep('step-results', 'active');
  const box = $('results');
  box.replaceChildren(h('p', { class: 'muted' }, 'Loading results…'));
  let r;
  try {
    r = await call('GET', `/demo/api/results/${encodeURIComponent(sessionId)}`);
  } catch (err) {
    box.replaceChildren(h('p', { class: 'error-text', role: 'alert' }, `Could not load the results: ${err.message}`));
    $('btn-restart').hidden = false;
    return;
  }
  state.results = r;
  const live = !!r.isLive;
  const details = r.details || {};
  const signals = details.signals || r.signals || {};
  const validations = r.validationsPassed || details.validationsPassed || [];
  const audit = Array.isArray(r.auditImages) ? r.auditImages : [];
  const ref = jpegSrc(r.referenceImage);
  box.replaceChildren(
    h('div', { class: 'result-grid' },
      h('div', { class: 'result-main' },
        h('div', { class: 'verdict-row' },
          h('span', { class: `status status-${live ? 'ok' : 'bad'}`, 'data-status': r.status }, r.status || '—'),
          h('span', { class: 'verdict-text' }, live ? 'Live person' : 'Not verified as live')),
        meter(r.confidence, 'Liveness confidence', live),
        r.message ? h('p', { class: 'result-message' }, r.message) : null,
        (details.reason || r.reason) ? h('p', { class: 'result-reason' }, `Reason: ${details.reason || r.reason}`) : null,
        validations.length ? h('ul', { class: 'chips', 'aria-label': 'Checks passed' }, validations.map((v) => h('li', { class: 'chip' }, v.replace(/_/g, ' ')))) : null),
      h('figure', { class: 'ref' },
        ref ? h('img', { src: ref, alt: 'Reference face from the capture', id: 'ref-img' }) : h('div', { class: 'ref-empty' }, 'No reference image'),
        h('figcaption', {}, 'Reference image'))),
    audit.length ? h('div', { class: 'audit' },
      h('h3', {}, `Audit images (${audit.length})`),
      h('div', { class: 'audit-grid' }, audit.map((a, i) => {
        const src = jpegSrc(typeof a === 'string' ? a : (a && (a.image || a.bytes)));
        return src ? h('img', { src, alt: `Audit image ${i + 1}` }) : null;
      }))) : null,
    Object.keys(signals).length ? h('div', { class: 'signals' },
      h('h3', {}, 'Signals'),
      h('table', {},
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Signal'), h('th', { scope: 'col' }, 'Value'), h('th', { scope: 'col' }, 'Threshold'), h('th', { scope: 'col' }, 'Result'))),
        h('tbody', {}, Object.entries(signals)
          // Graded signals first (failed ones at the top), then the reported values.
          .sort(([a, x], [b, y]) => rank(x) - rank(y) || a.localeCompare(b))
          .map(([k, v]) => {
            const s = (v && typeof v === 'object') ? v : { value: v };
            const graded = typeof s.passed === 'boolean';
            return h('tr', { class: graded && !s.passed ? 'signal-failed' : '' },
              h('th', { scope: 'row' }, k),
              h('td', {}, fmt(s.value)),
              h('td', {}, graded ? `${s.max ? '≤' : '≥'} ${fmt(s.threshold)}` : ''),
              h('td', {}, graded ? (s.passed ? 'pass' : `fail (${s.kind})`) : ''));
          })))) : null,
  );
  setStep('step-results', 'done');
  setStep('step-document', 'active');
  $('btn-restart').hidden = false;
  if (!live) {
    $('match').replaceChildren(h('p', { class: 'muted' }, 'The liveness check did not succeed, so a document match will report overallSuccess: false. You can still try it.'));
  }
}

function onFile() {
  const file = $('doc-file').files[0];
  const img = $('doc-preview');
  if (img.src) URL.revokeObjectURL(img.src);
  if (!file) {
    img.hidden = true;
    $('btn-verify').disabled = true;
    return;
  }
  img.src = URL.createObjectURL(file);
  img.hidden = false;
  $('doc-text').textContent = `${file.name} · ${(file.size / 1024).toFixed(0)} KB — choose another`;
  $('btn-verify').disabled = !state.session;
}

async function verifyDocument(ev) {
  ev.preventDefault();
  const file = $('doc-file').files[0];
  if (!file || !state.session) return;
  const btn = $('btn-verify');
  btn.disabled = true;
  btn.textContent = 'Comparing…';
  const box = $('match');
  const form = new FormData();
  form.append('document', file);
  await scanDocument(file);
  try {
    const r = await call('POST', `/demo/api/verify-with-document/${encodeURIComponent(state.session.sessionId)}`, form);
    const m = r.faceMatch || {};
    box.replaceChildren(h('div', { class: 'match-grid' },
      h('div', { class: 'match-main' },
        h('div', { class: 'verdict-row' },
          h('span', { class: `status status-${r.overallSuccess ? 'ok' : 'bad'}`, 'data-overall': String(!!r.overallSuccess) }, r.overallSuccess ? 'VERIFIED' : 'NOT VERIFIED'),
          h('span', { class: 'verdict-text' }, m.isMatch ? 'Same person as on the document' : 'Does not match the document')),
        meter(m.similarity, 'Face similarity', !!m.isMatch),
        h('dl', { class: 'facts facts-inline' },
          h('div', {}, h('dt', {}, 'Liveness verified'), h('dd', {}, fmt(!!r.livenessVerified))),
          h('div', {}, h('dt', {}, 'Liveness confidence'), h('dd', {}, fmt(r.livenessConfidence ?? '—'))),
          h('div', {}, h('dt', {}, 'Match'), h('dd', { 'data-match': String(!!m.isMatch) }, fmt(!!m.isMatch))))),
      h('div', { class: 'pair' },
        h('figure', {}, h('img', { src: $('doc-preview').src, alt: 'ID document photo' }), h('figcaption', {}, 'Document')),
        state.results && state.results.referenceImage ? h('figure', {}, h('img', { src: jpegSrc(state.results.referenceImage), alt: 'Live reference face' }), h('figcaption', {}, 'Live face')) : null)));
    setStep('step-document', 'done');
  } catch (err) {
    const body = err.body || {};
    box.replaceChildren(h('p', { class: 'error-text', role: 'alert' }, `${body.errorCode ? `Error ${body.errorCode}: ` : ''}${err.message}`));
  } finally {
    btn.disabled = false;
    btn.textContent = 'Verify with document';
  }
}

// Fields the scan shows, in the order of a document's data page.
const scanFields = [
  ['documentType', 'Document type'], ['issuingCountry', 'Issuing country'], ['documentNumber', 'Document number'],
  ['surname', 'Surname'], ['givenNames', 'Given names'], ['nationality', 'Nationality'], ['dateOfBirth', 'Date of birth'],
  ['sex', 'Sex'], ['expiryDate', 'Expiry date'], ['personalNumber', 'Personal number'],
];

// scanDocument reads the document with POST /v1/identity/scan and shows the
// fields, the MRZ with its check digits, and the portrait it extracted. A
// failed scan is shown and does not stop the face match.
async function scanDocument(file) {
  const box = $('doc-fields');
  box.replaceChildren(h('p', { class: 'muted' }, 'Reading the document…'));
  const form = new FormData();
  form.append('documents', file);
  try {
    const r = await call('POST', '/demo/api/identity-scan', form);
    const d = r.extractedData || {};
    const unread = d.unreadFields || {};
    const rows = scanFields.map(([k, label]) => h('tr', { 'data-field': k },
      h('th', { scope: 'row' }, label),
      k in d ? h('td', {}, String(d[k])) : h('td', { class: 'muted' }, unread[k] ? `not read: ${unread[k]}` : '—')));
    if ('expired' in d) rows.push(h('tr', { 'data-field': 'expired' }, h('th', { scope: 'row' }, 'Expired'), h('td', {}, fmt(!!d.expired))));
    const checks = Object.entries(d.checkDigits || {}).map(([k, ok]) => h('li', { class: ok ? 'ok' : 'bad' }, `${k}: ${ok ? 'valid' : 'invalid'}`));
    const q = r.quality || {};
    box.replaceChildren(h('div', { class: 'scan-grid', 'data-scan': d.checkDigitsValid ? 'valid' : 'unverified' },
      d.photo ? h('figure', {}, h('img', { id: 'scan-photo', src: jpegSrc(d.photo), alt: 'Portrait extracted from the document' }), h('figcaption', {}, 'Portrait found on the document')) : null,
      h('div', {},
        h('table', { class: 'scan-fields' }, h('tbody', {}, rows)),
        d.mrz ? h('pre', { class: 'mrz', 'aria-label': 'Machine-readable zone' }, d.mrz.join('\n')) : h('p', { class: 'muted' }, unread.documentNumber || 'No machine-readable zone found'),
        checks.length ? h('ul', { class: 'checks' }, checks) : null,
        h('p', { class: 'muted' }, `${d.mrzFormat ? `${d.mrzFormat} · ` : ''}check digits ${d.checkDigitsValid ? 'all valid' : 'not all valid'} · sharpness ${q.sharpness ?? '—'}${q.blurry ? ' (blurry)' : ''} · glare ${q.glare ?? '—'}%${q.cutOff ? ' · document cut off' : ''}`))));
  } catch (err) {
    const body = err.body || {};
    box.replaceChildren(h('p', { class: 'error-text', role: 'alert' }, `Document scan: ${body.errorCode ? `Error ${body.errorCode}: ` : ''}${err.message}`));
  }
}

function restart(autoCreate) {
  state.session = null;
  state.results = null;
  $('liveness').replaceChildren();
  if ($('liveness').shadowRoot) $('liveness').shadowRoot.replaceChildren();
  $('results').replaceChildren();
  $('match').replaceChildren();
  $('doc-fields').replaceChildren();
  $('session-facts').hidden = true;
  $('btn-restart').hidden = true;
  $('btn-create').disabled = false;
  $('btn-create').textContent = 'Create session';
  $('btn-verify').disabled = true;
  setStep('step-session', 'active');
  for (const id of ['step-capture', 'step-results', 'step-document']) setStep(id, 'locked');
  if (autoCreate) createSession();
  else $('btn-create').focus();
}

$('btn-create').addEventListener('click', createSession);
$('btn-restart').addEventListener('click', () => restart(false));
$('doc-file').addEventListener('change', onFile);
$('doc-form').addEventListener('submit', verifyDocument);
if (navigator.language && navigator.language.toLowerCase().startsWith('fr')) $('locale').value = 'fr';
