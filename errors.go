// Package livenessd holds the domain types and error kinds shared by the
// service's packages. It imports only the standard library; every other
// package may import it, and it imports none of them.
package livenessd

import (
	"errors"
	"fmt"
)

// Error kinds. Packages wrap these with context (fmt.Errorf("...: %w", ErrX))
// and the HTTP layer maps them to statuses and the seed's error codes in one
// table (internal/api). Anything not matched there is an internal error.
var (
	// Input images.
	ErrInvalidImage     = errors.New("image could not be decoded")
	ErrUnsupportedImage = errors.New("unsupported image format")
	ErrImageTooLarge    = errors.New("image too large")
	ErrImageTooSmall    = errors.New("image too small")
	ErrTooManyPixels    = errors.New("image has too many pixels")

	// Faces.
	ErrNoFace        = errors.New("no face detected")
	ErrMultipleFaces = errors.New("more than one face")
	// Which image of a comparison had no face (compare-faces sourceImage /
	// targetImage, verify-with-document's document / the session's
	// reference image). Both wrap ErrNoFace.
	ErrNoSourceFace = fmt.Errorf("source image: %w", ErrNoFace)
	ErrNoTargetFace = fmt.Errorf("target image: %w", ErrNoFace)

	// Documents.
	ErrNoDocument = errors.New("no identity document found")

	// Requests.
	ErrInvalidRequest = errors.New("invalid request")
	ErrUnauthorized   = errors.New("unauthorized")
	ErrForbidden      = errors.New("forbidden")
	ErrBodyTooLarge   = errors.New("request body too large")
	ErrRateLimited    = errors.New("rate limited")

	// Sessions.
	ErrSessionNotFound = errors.New("liveness session not found")
	ErrSessionExpired  = errors.New("liveness session expired")
	ErrSessionUsed     = errors.New("liveness session already used")
	ErrSessionNotReady = errors.New("liveness session has no result yet")
	ErrSessionCreate   = errors.New("liveness session creation failed")
	// ErrUserLocked: the session's externalUserId failed too many checks
	// recently; new sessions for it are refused for a while.
	ErrUserLocked = errors.New("end user temporarily locked out")

	// Verdicts.
	ErrLowConfidence = errors.New("liveness confidence too low")
	ErrLowSimilarity = errors.New("face similarity too low")
	ErrFaceMatch     = errors.New("face matching failed")

	// Service.
	ErrOverloaded = errors.New("service overloaded")
	// ErrStoreUnavailable: the session store (SQLite file, Redis) cannot
	// be reached; the request may be retried (503, not the client's fault).
	ErrStoreUnavailable = errors.New("session store unavailable")
	ErrModels           = errors.New("models unavailable")
)
