// Hosted capture page: /capture?session=ID&token=CLIENT_TOKEN[&locale=fr][&redirect=URL][&origin=PARENT_ORIGIN]
// In an iframe it posts {type: 'livenessd:result' | 'livenessd:error' | 'livenessd:retry', ...}
// to the parent window; with `redirect` it navigates there with ?sessionId=&status= appended.
import { Liveness } from '/sdk/liveness.js';

const params = new URLSearchParams(location.search);
const sessionId = params.get('session') || '';
const clientToken = params.get('token') || '';
const redirect = params.get('redirect'); // checked against the allow-list by the server
const targetOrigin = params.get('origin') || '*';
const locale = params.get('locale') || undefined;
const embedded = window.parent !== window;
const element = document.getElementById('liveness');

// The token is single-use and short-lived, but keep it out of the history
// and of anything that reads location later.
history.replaceState(null, '', location.pathname);

function post(message) {
  if (embedded) window.parent.postMessage(message, targetOrigin);
}

function finish(params, delay = 1500) {
  if (!redirect) return;
  const u = new URL(redirect, location.href);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  setTimeout(() => location.assign(u.toString()), delay);
}

function showMessage(text) {
  const el = document.getElementById('capture-message');
  el.textContent = text;
  el.hidden = false;
}

if (!sessionId || !clientToken) {
  showMessage('This link is incomplete: it needs a session and a token. Ask the site that sent you here for a new link.');
} else {
  const onRetry = (info) => {
    post({ type: 'livenessd:retry', sessionId: info.sessionId });
    if (redirect) finish({ sessionId: info.sessionId, status: info.status || 'ERROR', retry: '1' });
  };
  Liveness.start({
    element,
    sessionId,
    clientToken,
    serverUrl: location.origin,
    locale,
    onRetry: embedded || redirect ? onRetry : undefined,
    onProgress: (ev) => post({ type: 'livenessd:progress', sessionId, stage: ev.stage, guidance: ev.guidance, approach: ev.approach, fill: ev.fill }),
  }).then((result) => {
    post({ type: 'livenessd:result', sessionId, status: result.status });
    finish({ sessionId, status: result.status });
  }, (err) => {
    post({ type: 'livenessd:error', sessionId, code: err.code || 'SERVER_ERROR', message: err.message });
    if (err.code !== 'INVALID_OPTIONS') finish({ sessionId, status: "ERROR", error: err.code || "SERVER_ERROR" }, 4000);
    else showMessage(err.message);
  });
}
