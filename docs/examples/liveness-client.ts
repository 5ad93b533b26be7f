// services/liveness.ts — a typed client for livenessd's API, for your SERVER
// (Node.js 18+, Deno, Bun: anything with fetch, FormData and Blob).
// Copy this file into your backend. Never ship it to a browser: it holds
// your API key. The browser only gets { sessionId, clientToken }.
//
// Shapes follow the seed API (docs/API.md); livenessd adds `clientToken` to
// the session and `details` to results.

export interface LivenessSession {
  sessionId: string;
  status: LivenessStatus;
  createdAt: string;
  expiryDate: string;
  /** Short-lived token that lets a browser capture this one session (give it to Liveness.start). */
  clientToken: string;
}

export type LivenessStatus = 'CREATED' | 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED' | 'EXPIRED';

export interface LivenessResult {
  sessionId: string;
  status: LivenessStatus;
  /** 0-100, a score (not a probability). */
  confidence: number;
  isLive: boolean;
  /** Base64 JPEG of the best frame's face (empty while not finished). */
  referenceImage: string;
  /** Base64 JPEGs, up to settings.auditImagesLimit. */
  auditImages?: string[];
  timestamp: string;
  message: string;
  referenceBoundingBox?: { width: number; height: number; left: number; top: number };
  /** livenessd's additions: the signals behind the confidence, the checks passed, why it failed. */
  details: {
    signals: Record<string, number>;
    /** e.g. face_detected, quality_check, anti_spoofing, challenge_response */
    validationsPassed: string[];
    reason?: string;
    threshold: number;
    expiryDate: string;
  };
}

export interface FaceMatchResult {
  similarity: number;
  isMatch: boolean;
  confidence: number;
  threshold: number;
}

export interface VerifyWithDocumentResult {
  sessionId: string;
  livenessVerified: boolean;
  livenessConfidence: number;
  faceMatch: { isMatch: boolean; similarity: number; confidence: number };
  overallSuccess: boolean;
}

/** The seed's error body. */
export interface LivenessApiErrorBody {
  errorCode: number;
  message: string;
  status: number;
  timestamp?: string;
  details?: Record<string, unknown>;
}

export class LivenessApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: LivenessApiErrorBody | null,
    operation: string,
  ) {
    super(`${operation} failed: ${status}${body ? ` ${body.errorCode} ${body.message}` : ''}`);
    this.name = 'LivenessApiError';
  }

  /** 1007: the session expired — create a new one. */
  get expired(): boolean {
    return this.body?.errorCode === 1007;
  }

  /** Worth retrying later (429, 503 / 5001): see Retry-After. */
  get transient(): boolean {
    return this.status === 429 || this.status === 503;
  }
}

const API_BASE = (process.env.LIVENESS_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '') + '/v1/liveness';
const API_KEY = process.env.LIVENESS_API_KEY!;

async function call<T>(operation: string, path: string, init: RequestInit = {}): Promise<T> {
  const response = await fetch(`${API_BASE}${path}`, {
    ...init,
    headers: { Authorization: `Bearer ${API_KEY}`, Accept: 'application/json', ...(init.headers ?? {}) },
    signal: init.signal ?? AbortSignal.timeout(30_000),
  });
  if (!response.ok) {
    let body: LivenessApiErrorBody | null = null;
    try {
      body = (await response.json()) as LivenessApiErrorBody;
    } catch {
      body = null;
    }
    throw new LivenessApiError(response.status, body, operation);
  }
  return (await response.json()) as T;
}

/** POST /v1/liveness/session */
export async function createLivenessSession(auditImagesLimit = 4): Promise<LivenessSession> {
  return call<LivenessSession>('Create session', '/session', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ settings: { auditImagesLimit } }),
  });
}

/** GET /v1/liveness/session/{sessionId}/results */
export async function getLivenessResults(sessionId: string): Promise<LivenessResult> {
  return call<LivenessResult>('Get results', `/session/${encodeURIComponent(sessionId)}/results`);
}

/** POST /v1/liveness/compare-faces — both images base64 (no data: prefix). */
export async function compareFaces(sourceImage: string, targetImage: string): Promise<FaceMatchResult> {
  return call<FaceMatchResult>('Face comparison', '/compare-faces', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ sourceImage, targetImage }),
  });
}

/** POST /v1/liveness/verify-with-document/{sessionId} — multipart field "document". */
export async function verifyWithDocument(
  sessionId: string,
  document: Blob | Uint8Array,
  filename = 'document.jpg',
): Promise<VerifyWithDocumentResult> {
  const form = new FormData();
  // new Uint8Array(...) copies into a plain ArrayBuffer, which Blob accepts.
  const blob = document instanceof Blob ? document : new Blob([new Uint8Array(document)], { type: 'image/jpeg' });
  form.append('document', blob, filename);
  return call<VerifyWithDocumentResult>('Verify with document', `/verify-with-document/${encodeURIComponent(sessionId)}`, {
    method: 'POST',
    body: form,
  });
}
