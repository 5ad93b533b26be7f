// Type declarations for the livenessd browser SDK (/sdk/liveness.js).
// Copy this file next to your code, or point a `paths` / `declare module`
// entry at it, e.g.
//   declare module 'https://verify.example.com/sdk/liveness.js' { export * from './liveness'; }

/** Final capture outcome. Scores never reach the browser: read them on your server. */
export type LivenessStatus = 'SUCCEEDED' | 'FAILED';

export interface LivenessResult {
  status: LivenessStatus;
  sessionId: string;
}

/** Codes of LivenessError.code. */
export type LivenessErrorCode =
  | 'CAMERA_DENIED'
  | 'CAMERA_NOT_FOUND'
  | 'CAMERA_IN_USE'
  | 'CAMERA_UNSUPPORTED'
  | 'SESSION_EXPIRED'
  | 'SESSION_NOT_FOUND'
  | 'SESSION_ALREADY_USED'
  | 'CONNECTION_FAILED'
  | 'TIMEOUT'
  /** The face did not fill the oval before the time left for it ran out (the message says what to do next time). */
  | 'FACE_FIT_TIMEOUT'
  | 'RATE_LIMITED'
  | 'PROTOCOL_ERROR'
  | 'SERVER_ERROR'
  | 'CANCELLED'
  | 'INVALID_OPTIONS';

export declare class LivenessError extends Error {
  readonly name: 'LivenessError';
  readonly code: LivenessErrorCode;
  /** The underlying DOMException / Error, when there is one. */
  readonly cause?: unknown;
  constructor(code: LivenessErrorCode, message: string, cause?: unknown);
}

/** Guidance codes sent by the server while the face is positioned. */
export type GuidanceCode =
  | 'no_face'
  | 'multiple_faces'
  /** Start stage: the face is too large for the small start oval. */
  | 'move_back'
  | 'move_closer'
  /** Target stage: the face overflows the oval. */
  | 'too_close'
  | 'move_into_oval'
  | 'too_dark'
  | 'too_bright'
  | 'face_camera'
  | 'hold_still'
  | 'ok';

export type LivenessStage =
  | 'intro'
  | 'camera'
  | 'connecting'
  | 'positioning'
  | 'flashing'
  | 'analysing'
  | 'done'
  | 'error';

export interface LivenessProgressEvent {
  stage: LivenessStage;
  /** 0..1, when the stage knows it. */
  progress?: number;
  /** During 'positioning': the latest guidance from the server. */
  guidance?: GuidanceCode | '';
  inOval?: boolean;
  /**
   * During 'positioning': the stage of the approach. 'start' until the face has fitted inside the small start
   * oval once, then 'target' (the face must fill the oval).
   */
  approach?: 'start' | 'target';
  /** During 'positioning': the face's width over the target oval's width (1 = as wide as the oval; 0 without a face). */
  fill?: number;
  /** During 'flashing': index of the colour on screen (-1 before the first) and how many there are. */
  colorIndex?: number;
  colorCount?: number;
  /** On 'done'. */
  status?: LivenessStatus;
  /** On 'error'. */
  error?: { code: LivenessErrorCode; message: string };
}

/** Every user-visible string; see Liveness.strings('en') for the English table. */
export interface LivenessStrings {
  title: string;
  introText: string;
  introTips: string[];
  photosensitivityTitle: string;
  photosensitivityText: string;
  start: string;
  requestingCamera: string;
  requestingCameraHelp: string;
  connecting: string;
  cancel: string;
  videoLabel: string;
  guidance: Record<GuidanceCode, string>;
  startPositioning: string;
  /** Label of the fit meter in the target stage. */
  meterTarget: string;
  /** Label of the fit meter in the start stage. */
  meterStart: string;
  /** The countdown; {s} is replaced with the seconds left. */
  timeLeft: string;
  /** Label of the camera picker (shown when there are several cameras). */
  camera: string;
  /** Name of a camera without a label; {n} is its number. */
  cameraN: string;
  /** Added to the FACE_FIT_TIMEOUT message: what to do next time, by the stage reached. */
  fitHints: { start: string; target: string };
  flashing: string;
  analysing: string;
  analysingHelp: string;
  succeededTitle: string;
  succeededText: string;
  failedTitle: string;
  failedText: string;
  tryAgain: string;
  startNewCheck: string;
  errorTitle: string;
  cameraErrorTitle: string;
  sessionErrorTitle: string;
  cancelledTitle: string;
  /** Title of the FACE_FIT_TIMEOUT screen. */
  fitTimeoutTitle: string;
  progress: string;
  errors: Record<LivenessErrorCode, string>;
  /** The locale actually used ('en', 'fr'). */
  lang: string;
}

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K] };

export interface LivenessRetryInfo {
  sessionId: string;
  status?: LivenessStatus;
  error?: LivenessError;
}

export interface LivenessOptions {
  /** The element the SDK renders into (it attaches an open shadow root). */
  element: HTMLElement;
  /** From POST /v1/liveness/session, created by your server. */
  sessionId: string;
  /** The short-lived capture token returned with the session. Never your API key. */
  clientToken: string;
  /** Base URL of livenessd, e.g. "https://verify.example.com". Default: the origin the SDK was loaded from. */
  serverUrl?: string;
  /** Called on every stage change and guidance update. */
  onProgress?: (event: LivenessProgressEvent) => void;
  /**
   * When set, the failure and error screens show a "Start a new check" button that calls it.
   * A session is single-use: create a new session on your server, then call Liveness.start again.
   */
  onRetry?: (info: LivenessRetryInfo) => void;
  /** 'en' or 'fr' (a region such as 'fr-CA' falls back to 'fr'). Default: navigator.language, then 'en'. */
  locale?: string;
  /** Override any string of the chosen locale. */
  strings?: DeepPartial<LivenessStrings>;
  /** Abort the check (rejects with code 'CANCELLED'). */
  signal?: AbortSignal;
}

/**
 * Runs one check in options.element. Resolves when the result screen shows;
 * rejects with a LivenessError after showing its message. Camera failures
 * (denied, not found, in use) offer "Try again" in place and keep waiting,
 * because the session is not used until the camera works.
 */
export declare function start(options: LivenessOptions): Promise<LivenessResult>;

export interface LivenessSDK {
  start: typeof start;
  readonly version: string;
  readonly LivenessError: typeof LivenessError;
  /** Locales built in: ['en', 'fr']. */
  readonly locales: readonly string[];
  /** The resolved string table of a locale. */
  strings(locale?: string): LivenessStrings;
}

export declare const Liveness: LivenessSDK;
export default Liveness;

// ---------------------------------------------------------------------------
// Server API bodies your backend reads (docs/API.md). They never go through
// the browser SDK; they are here so one file types the whole workflow.

/** Error body of every API error. */
export interface ApiError {
  errorCode: number;
  message: string;
  status: number;
  timestamp: string;
  details: Record<string, unknown>;
}

/** Quality of the scanned images (POST /v1/identity/scan). */
export interface ScanQuality {
  /** 0-100; below 20 is flagged blurry. */
  sharpness: number;
  blurry: boolean;
  /** Percentage of the document's pixels in saturated spots. */
  glare: number;
  hasGlare: boolean;
  /** The document's outline touches the frame. */
  cutOff: boolean;
}

export type DocumentType = 'passport' | 'id_card' | 'visa';
export type MrzFormat = 'TD1' | 'TD2' | 'TD3' | 'MRV-A' | 'MRV-B';
/** Fields of extractedData that can be absent, named in unreadFields. */
export type ExtractedField =
  | 'photo' | 'documentType' | 'issuingCountry' | 'documentNumber' | 'surname' | 'givenNames'
  | 'nationality' | 'dateOfBirth' | 'sex' | 'expiryDate' | 'personalNumber';

/**
 * What POST /v1/identity/scan read. A field that could not be read is
 * absent and named in unreadFields with the reason: nothing is guessed.
 */
export interface ExtractedData {
  /** Base64 JPEG of the portrait (eyes level, with margin): compare-faces' sourceImage. */
  photo?: string;
  documentType?: DocumentType;
  issuingCountry?: string;
  documentNumber?: string;
  surname?: string;
  givenNames?: string;
  nationality?: string;
  /** YYYY-MM-DD */
  dateOfBirth?: string;
  sex?: 'M' | 'F' | 'X';
  /** YYYY-MM-DD */
  expiryDate?: string;
  personalNumber?: string;
  /** Present when expiryDate is. */
  expired?: boolean;
  /** The MRZ lines after the corrections a check digit confirmed. */
  mrz?: string[];
  mrzFormat?: MrzFormat;
  /** documentNumber, dateOfBirth, expiryDate, personalNumber (TD3), composite (not on visas). */
  checkDigits?: Partial<Record<'documentNumber' | 'dateOfBirth' | 'expiryDate' | 'personalNumber' | 'composite', boolean>>;
  checkDigitsValid: boolean;
  /** Characters changed because a check digit confirmed the change. */
  ocrCorrections: number;
  unreadFields?: Partial<Record<ExtractedField | 'personalNumber', string>>;
  /** Country fields given whose code is not on ICAO 9303's list of state codes (a misread, a specimen, or a code outside the standard); the value is as read. */
  unlistedCodes?: Array<'issuingCountry' | 'nationality'>;
}

export interface ScannedImage {
  index: number;
  mrzFound: boolean;
  portraitFound: boolean;
  /** Document corners in image pixels: top-left, top-right, bottom-right, bottom-left. */
  outline?: [number, number][];
  perspectiveCorrected: boolean;
  quality: ScanQuality;
}

/** Response of POST /v1/identity/scan (multipart field "documents", 1-2 images). */
export interface IdentityScanResponse {
  extractedData: ExtractedData;
  /** The worst over the images. */
  quality: ScanQuality;
  documents: ScannedImage[];
  timestamp: string;
}
