// The page under test: the unmodified FaceLivenessDetectorCore configured
// for livenessd as docs/AMPLIFY.md shows. The session comes in the query
// (the test driver plays the app backend); window.__amplify reports what
// the component signalled.
import React, { useState } from 'react';
import { createRoot } from 'react-dom/client';
import { ThemeProvider } from '@aws-amplify/ui-react';
import { FaceLivenessDetectorCore } from '@aws-amplify/ui-react-liveness';
import '@aws-amplify/ui-react/styles.css';

const params = new URLSearchParams(window.location.search);
const endpoint = params.get('endpoint');
const sessionId = params.get('session');
const clientToken = params.get('token');

function App() {
  const [state, setState] = useState('running');
  const report = (r) => {
    window.__amplify = r;
    setState(r.done ? 'complete' : `error ${r.error}`);
  };
  return (
    <ThemeProvider>
      <div id="test-state" data-state={state}>{state}</div>
      <FaceLivenessDetectorCore
        sessionId={sessionId}
        region="local"
        disableStartScreen={true}
        onAnalysisComplete={async (deviceInfo) => report({ done: true, deviceInfo })}
        onError={(e) => report({ error: e.state, message: String(e.error?.message ?? e.error) })}
        config={{
          endpointOverride: endpoint,
          credentialProvider: async () => ({
            accessKeyId: 'livenessd',
            secretAccessKey: 'unused-without-amplify-keys',
            sessionToken: clientToken,
          }),
          faceModelUrl: `${endpoint}/amplify/model/model.json`,
          binaryPath: `${endpoint}/amplify/wasm/`,
        }}
      />
    </ThemeProvider>
  );
}

createRoot(document.getElementById('root')).render(<App />);
