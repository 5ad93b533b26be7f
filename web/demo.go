package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// demo implements the /demo/api routes by calling the public API handler in
// process with the demo key.
type demo struct {
	api    http.Handler
	key    string
	audit  int
	maxDoc int64
	log    *slog.Logger
}

// sessionIDPattern bounds what a demo route forwards as a session id; the
// API decides whether it exists.
var sessionIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// demoTimeout bounds one in-process API call (verify-with-document runs the
// face pipeline on the document).
const demoTimeout = 30 * time.Second

// writeDemoError writes a JSON error in the seed's shape.
func writeDemoError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"message":   msg,
		"status":    status,
		"timestamp": time.Now().UTC().Format(time.RFC3339),
	})
}

// sameOrigin refuses cross-site calls: the demo key must not be usable from
// another site's page (CSRF).
func sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return false
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || !strings.EqualFold(u.Host, r.Host) {
			return false
		}
	}
	return true
}

func (d *demo) ready(w http.ResponseWriter, r *http.Request) bool {
	if d.api == nil || d.key == "" {
		writeDemoError(w, http.StatusServiceUnavailable, "the demo is not configured on this server (no demo API key)")
		return false
	}
	if !sameOrigin(r) {
		writeDemoError(w, http.StatusForbidden, "demo routes accept same-origin requests only")
		return false
	}
	return true
}

// bufferedResponse collects what the API handler writes.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header { return b.header }
func (b *bufferedResponse) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}
func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

// call runs one request through the API handler with the demo key and
// copies its answer to w.
func (d *demo) call(ctx context.Context, w http.ResponseWriter, in *http.Request, method, target, contentType string, body io.Reader) {
	ctx, cancel := context.WithTimeout(ctx, demoTimeout)
	defer cancel()
	if body == nil {
		body = http.NoBody // handlers may assume a server request's non-nil Body
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		d.log.Error("demo: build request", "target", target, "err", err)
		writeDemoError(w, http.StatusInternalServerError, "demo request failed")
		return
	}
	req.Header.Set("Authorization", "Bearer "+d.key)
	req.Header.Set("Accept", "application/json")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	// Keep the browser's address so per-client limits still apply.
	req.RemoteAddr = in.RemoteAddr
	req.Host = in.Host
	if ua := in.UserAgent(); ua != "" {
		req.Header.Set("User-Agent", ua)
	}
	rec := &bufferedResponse{header: http.Header{}}
	d.api.ServeHTTP(rec, req)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	if rec.status >= 500 {
		d.log.Warn("demo: API call failed", "method", method, "target", target, "status", rec.status)
	}
	for _, k := range []string{"Content-Type", "Retry-After"} {
		if v := rec.header.Get(k); v != "" {
			w.Header().Set(k, v)
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(rec.status)
	_, _ = w.Write(rec.body.Bytes())
}

// createSession: POST /demo/api/session → POST /v1/liveness/session.
func (d *demo) createSession(w http.ResponseWriter, r *http.Request) {
	if !d.ready(w, r) {
		return
	}
	body := fmt.Sprintf(`{"settings":{"auditImagesLimit":%d}}`, d.audit)
	d.call(r.Context(), w, r, http.MethodPost, "/v1/liveness/session", "application/json", strings.NewReader(body))
}

// results: GET /demo/api/results/{id} → GET /v1/liveness/session/{id}/results.
func (d *demo) results(w http.ResponseWriter, r *http.Request) {
	if !d.ready(w, r) {
		return
	}
	id := r.PathValue("id")
	if !sessionIDPattern.MatchString(id) {
		writeDemoError(w, http.StatusNotFound, "Liveness session not found")
		return
	}
	d.call(r.Context(), w, r, http.MethodGet, "/v1/liveness/session/"+id+"/results", "", nil)
}

// verifyWithDocument: POST /demo/api/verify-with-document/{id} (multipart,
// field "document") → POST /v1/liveness/verify-with-document/{id}. The body
// is passed through unchanged, bounded by MaxDocumentBytes.
func (d *demo) verifyWithDocument(w http.ResponseWriter, r *http.Request) {
	if !d.ready(w, r) {
		return
	}
	id := r.PathValue("id")
	if !sessionIDPattern.MatchString(id) {
		writeDemoError(w, http.StatusNotFound, "Liveness session not found")
		return
	}
	d.forwardUpload(w, r, "/v1/liveness/verify-with-document/"+id, "document", true)
}

// identityScan: POST /demo/api/identity-scan (multipart, field
// "documents") → POST /v1/identity/scan, passed through unchanged.
func (d *demo) identityScan(w http.ResponseWriter, r *http.Request) {
	if !d.ready(w, r) {
		return
	}
	d.forwardUpload(w, r, "/v1/identity/scan", "documents", false)
}

// forwardUpload passes an upload of at most MaxDocumentBytes to target.
func (d *demo) forwardUpload(w http.ResponseWriter, r *http.Request, target, field string, allowJSON bool) {
	ct := r.Header.Get("Content-Type")
	if !strings.HasPrefix(ct, "multipart/form-data") && (!allowJSON || !strings.HasPrefix(ct, "application/json")) {
		writeDemoError(w, http.StatusUnsupportedMediaType, fmt.Sprintf("send the document as multipart/form-data (field %q)", field))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, d.maxDoc))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeDemoError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the document is larger than %d bytes", tooBig.Limit))
			return
		}
		writeDemoError(w, http.StatusBadRequest, "could not read the upload")
		return
	}
	d.call(r.Context(), w, r, http.MethodPost, target, ct, bytes.NewReader(body))
}
