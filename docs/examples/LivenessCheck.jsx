// LivenessCheck.jsx — the seed's React example, with livenessd's SDK in place
// of Amplify's FaceLivenessDetector. No npm package needed: the SDK is an ES
// module served by livenessd.
//
// Your backend exposes two small routes built on liveness-client.ts (it holds
// the API key; the browser never does):
//   POST /api/liveness/session          -> { sessionId, clientToken }   (createLivenessSession)
//   GET  /api/liveness/session/:id       -> getLivenessResults(id)       (confidence, isLive, ...)
//
// Allow the livenessd origin in your page's CSP: script-src, style-src and
// connect-src (wss://) — see docs/SDK.md.
import { useEffect, useRef, useState } from 'react';

const LIVENESS_URL = process.env.REACT_APP_LIVENESS_URL; // e.g. https://verify.example.com

// Load the SDK once, from the livenessd server itself.
let sdkPromise;
function loadSDK() {
  sdkPromise ??= import(/* webpackIgnore: true */ /* @vite-ignore */ `${LIVENESS_URL}/sdk/liveness.js`).then((m) => m.Liveness);
  return sdkPromise;
}

function LivenessCheck({ onVerified, locale = 'en' }) {
  const [session, setSession] = useState(null); // { sessionId, clientToken }
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState(null);
  const [attempt, setAttempt] = useState(0); // a retry needs a new session
  const elementRef = useRef(null);

  // Step 1: create a session (through your backend).
  useEffect(() => {
    let cancelled = false;
    async function createSession() {
      setSession(null);
      setError(null);
      const response = await fetch('/api/liveness/session', { method: 'POST' });
      if (!response.ok) throw new Error(`Failed to create session: ${response.status}`);
      const data = await response.json();
      if (!cancelled) setSession({ sessionId: data.sessionId, clientToken: data.clientToken });
    }
    createSession().catch((e) => !cancelled && setError(e.message));
    return () => {
      cancelled = true;
    };
  }, [attempt]);

  // Step 2: run the check in the browser; then read the results server-side.
  useEffect(() => {
    if (!session || !elementRef.current) return undefined;
    const abort = new AbortController();
    loadSDK()
      .then((Liveness) =>
        Liveness.start({
          element: elementRef.current,
          sessionId: session.sessionId,
          clientToken: session.clientToken,
          serverUrl: LIVENESS_URL,
          locale,
          signal: abort.signal,
          onRetry: () => setAttempt((n) => n + 1),
        }),
      )
      .then(() => handleAnalysisComplete(session.sessionId))
      .catch((e) => {
        // The SDK already shows the message in its element; keep the code.
        if (e.code !== 'CANCELLED') console.error('Liveness check failed:', e.code, e.message);
      });
    return () => abort.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [session]);

  // Step 3: the verdict comes from your backend, never from the browser.
  const handleAnalysisComplete = async (sessionId) => {
    setLoading(true);
    try {
      const response = await fetch(`/api/liveness/session/${sessionId}`);
      const results = await response.json();
      if (results.isLive) {
        console.log('Liveness verified!', results.confidence);
        onVerified?.(results);
      } else {
        console.error('Liveness check failed');
      }
    } catch (e) {
      console.error('Error fetching results:', e);
    } finally {
      setLoading(false);
    }
  };

  if (error) {
    return (
      <div role="alert">
        Could not start the check: {error} <button onClick={() => setAttempt((n) => n + 1)}>Try again</button>
      </div>
    );
  }
  if (!session) {
    return <div>Creating session...</div>;
  }
  return (
    <div>
      <h2>Face Verification</h2>
      {/* key: a fresh element per session, so the SDK starts clean on retry */}
      <div key={session.sessionId} ref={elementRef} />
      {loading && <div>Verifying...</div>}
    </div>
  );
}

export default LivenessCheck;
