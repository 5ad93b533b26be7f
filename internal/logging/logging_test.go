package logging_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/livenessd/livenessd/internal/logging"
)

func TestNew_FormatsAndRequestID(t *testing.T) {
	ctx := logging.WithRequestID(context.Background(), "abc123")
	t.Run("JSON", func(t *testing.T) {
		var buf bytes.Buffer
		log, err := logging.New("json", "info", &buf)
		if err != nil {
			t.Fatal(err)
		}
		log.With("component", "x").InfoContext(ctx, "capture outcome", "status", "SUCCEEDED")
		log.DebugContext(ctx, "hidden")
		var m map[string]any
		if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
			t.Fatalf("not one JSON line: %q", buf.String())
		}
		if m["request_id"] != "abc123" || m["msg"] != "capture outcome" || m["component"] != "x" || m["status"] != "SUCCEEDED" {
			t.Fatalf("record %v", m)
		}
	})
	t.Run("Text", func(t *testing.T) {
		var buf bytes.Buffer
		log, err := logging.New("text", "debug", &buf)
		if err != nil {
			t.Fatal(err)
		}
		log.WithGroup("g").DebugContext(ctx, "hello", "k", 1)
		log.Info("no context")
		lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
		if len(lines) != 2 || !strings.Contains(lines[0], "request_id=abc123") || strings.Contains(lines[1], "request_id") {
			t.Fatalf("lines %q", lines)
		}
	})
	for _, bad := range [][2]string{{"xml", "info"}, {"json", "loud"}} {
		if _, err := logging.New(bad[0], bad[1], &bytes.Buffer{}); !errors.Is(err, logging.ErrBadOption) {
			t.Errorf("New(%q, %q) = %v", bad[0], bad[1], err)
		}
	}
}

func TestValidRequestID(t *testing.T) {
	for id, want := range map[string]bool{
		"":                       false,
		"0123abcdef":             true,
		"a.b_c-D":                true,
		"x\nlevel=ERROR msg=bad": false,
		strings.Repeat("a", 65):  false,
		"id with space":          false,
	} {
		if got := logging.ValidRequestID(id); got != want {
			t.Errorf("ValidRequestID(%q) = %v, want %v", id, got, want)
		}
	}
	if a, b := logging.NewRequestID(), logging.NewRequestID(); a == b || len(a) != 16 || !logging.ValidRequestID(a) {
		t.Fatalf("NewRequestID: %q %q", a, b)
	}
}
