package api_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/livenessd/livenessd/internal/api"
	"github.com/livenessd/livenessd/internal/testutil"
)

type openAPIDoc struct {
	OpenAPI    string                                `json:"openapi"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	ErrorCodes []struct {
		Code   int `json:"code"`
		Status int `json:"status"`
	} `json:"x-error-codes"`
}

// TestOpenAPI: every route of the server is in the served document, and
// every error code the server can answer is listed in it and in docs/API.md.
func TestOpenAPI(t *testing.T) {
	ts := newServer(t, serverOpts{noFaces: true})
	r := ts.do(t, "GET", "/openapi.json", "", "", nil)
	if r.status != 200 {
		t.Fatalf("%d", r.status)
	}
	var doc openAPIDoc
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi %q", doc.OpenAPI)
	}
	routes := ts.api.Routes()
	if len(routes) < 8 {
		t.Fatalf("only %d routes", len(routes))
	}
	for _, pattern := range routes {
		method, path, ok := strings.Cut(pattern, " ")
		if !ok {
			t.Fatalf("route %q has no method", pattern)
		}
		ops, ok := doc.Paths[path]
		if !ok {
			t.Errorf("route %s missing from openapi.json", pattern)
			continue
		}
		if _, ok := ops[strings.ToLower(method)]; !ok {
			t.Errorf("route %s: method missing from openapi.json", pattern)
		}
	}
	listed := map[int]int{}
	for _, c := range doc.ErrorCodes {
		listed[c.Code] = c.Status
	}
	apiDoc, err := os.ReadFile(filepath.Join(testutil.RepoRoot(t), "docs", "API.md"))
	if err != nil {
		t.Fatal(err)
	}
	for code, status := range api.ErrorCodes() {
		if got, ok := listed[code]; !ok || got != status {
			t.Errorf("error code %d (%d) listed as %d in openapi.json", code, status, got)
		}
		row := regexp.MustCompile(`\|\s*` + strconv.Itoa(code) + `\s*\|\s*` + strconv.Itoa(status) + `\s*\|`)
		if !row.Match(apiDoc) {
			t.Errorf("error code %d (%d) has no row in docs/API.md", code, status)
		}
	}
}
