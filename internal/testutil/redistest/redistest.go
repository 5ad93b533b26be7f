// Package redistest runs a real redis-server (the Debian package, which
// `make test` installs when missing) on a free loopback port for tests.
// Without the program a test is skipped, unless LIVENESS_REQUIRE_REDIS=1
// (set by `make test`), where it fails, so CI never passes by skipping.
package redistest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// EnvRequire makes a missing redis-server a test failure.
const EnvRequire = "LIVENESS_REQUIRE_REDIS"

// Server is one redis-server process. Stop and Start restart it on the
// same port (and empty: persistence is off), to test outages.
type Server struct {
	tb   testing.TB
	bin  string
	dir  string
	Port int

	mu  sync.Mutex
	cmd *exec.Cmd
}

// Start starts a redis-server on a free port; it is stopped at the end of
// the test.
func Start(tb testing.TB) *Server {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv(EnvRequire) == "1" {
			tb.Fatalf("redis-server not installed (run `make redis`): %v", err)
		}
		tb.Skipf("redis-server not installed (run `make redis` or apt-get install redis-server): %v", err)
	}
	s := &Server{tb: tb, bin: bin, dir: tb.TempDir()}
	var lastErr error
	for range 5 { // a free port may be taken between the probe and the bind
		s.Port = freePort(tb)
		if lastErr = s.start(); lastErr == nil {
			tb.Cleanup(s.Stop)
			return s
		}
	}
	tb.Fatalf("redistest: %v", lastErr)
	return nil
}

// URL is the server's redis:// URL.
func (s *Server) URL() string { return "redis://127.0.0.1:" + strconv.Itoa(s.Port) }

// Addr is host:port.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.Port) }

// Start starts the server again after Stop, on the same port.
func (s *Server) Start() {
	s.tb.Helper()
	var err error
	for range 50 { // the old socket may linger briefly
		if err = s.start(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.tb.Fatalf("redistest: restart: %v", err)
}

func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cmd := exec.Command(s.bin,
		"--port", strconv.Itoa(s.Port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.dir,
		"--protected-mode", "yes", "--loglevel", "notice")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	// Ready when it says so; its log goes on being drained afterwards.
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(out)
		var tail []string
		for sc.Scan() {
			line := sc.Text()
			if strings.Contains(line, "Ready to accept connections") {
				ready <- nil
				_, _ = io.Copy(io.Discard, out)
				return
			}
			tail = append(tail, line)
		}
		ready <- fmt.Errorf("redis-server exited before it was ready: %s", strings.Join(tail, " | "))
	}()
	select {
	case err := <-ready:
		if err != nil {
			_ = cmd.Wait()
			return err
		}
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return fmt.Errorf("redis-server not ready within 30 s")
	}
	s.cmd = cmd
	return nil
}

// Stop kills the server (as an outage would) and waits for it to exit.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

func freePort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
