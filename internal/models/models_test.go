package models

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestManifest_WellFormed(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range Manifest {
		if len(p.SHA256) != 64 || p.Version == "" || p.License == "" {
			t.Errorf("%s: incomplete entry", p.Spec())
		}
		for _, f := range p.Files {
			key := f.Dest + "/" + f.Arch
			if seen[key] {
				t.Errorf("%s: duplicate destination %s", p.Spec(), f.Dest)
			}
			seen[key] = true
			if _, err := hex.DecodeString(f.SHA256); err != nil || len(f.SHA256) != 64 {
				t.Errorf("%s: %s: bad sha256 %q", p.Spec(), f.Path, f.SHA256)
			}
			if !strings.HasPrefix(f.Path, "package/") || strings.Contains(f.Dest, "..") {
				t.Errorf("%s: suspicious path %s -> %s", p.Spec(), f.Path, f.Dest)
			}
		}
	}
}

// writeTarGz builds a small npm-like tarball so extraction can be tested
// without the real packages.
func writeTarGz(t *testing.T, files map[string][]byte) string {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for name, data := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(data)
	}
	tw.Close()
	gz.Close()
	p := filepath.Join(t.TempDir(), "pkg.tgz")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func sum(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func TestCache_Extract(t *testing.T) {
	good := []byte("weights")
	tgz := writeTarGz(t, map[string][]byte{"package/model/a.onnx": good, "package/other": []byte("x")})
	for _, test := range []struct {
		name    string
		files   []File
		wantErr string
	}{
		{"OK", []File{{Path: "package/model/a.onnx", Dest: "m/a.onnx", SHA256: sum(good)}}, ""},
		{"ErrChecksum", []File{{Path: "package/model/a.onnx", Dest: "m/a.onnx", SHA256: sum([]byte("other"))}}, "sha256"},
		{"ErrMissing", []File{{Path: "package/model/b.onnx", Dest: "m/b.onnx", SHA256: sum(good)}}, "not in tarball"},
		{"OtherArchSkipped", []File{{Path: "package/model/b.onnx", Dest: "m/b.onnx", SHA256: sum(good), Arch: "sparc"}}, ""},
	} {
		t.Run(test.name, func(t *testing.T) {
			c := &Cache{Dir: t.TempDir(), Arch: "amd64"}
			err := c.extract(tgz, Package{Name: "p", Version: "1", Files: test.files})
			if test.wantErr == "" {
				if err != nil {
					t.Fatalf("extract: %v", err)
				}
				for _, f := range c.files(Package{Files: test.files}) {
					if err := verifyFile(c.Path(f.Dest), f.SHA256); err != nil {
						t.Errorf("%s: %v", f.Dest, err)
					}
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), test.wantErr) {
				t.Fatalf("extract error = %v, want it to mention %q", err, test.wantErr)
			}
			// A failed extraction leaves no file behind under the final name.
			for _, f := range test.files {
				if _, err := os.Stat(c.Path(f.Dest)); err == nil {
					t.Errorf("%s written despite the error", f.Dest)
				}
			}
		})
	}
}

func TestCache_VerifyNamesFix(t *testing.T) {
	c := NewCache(t.TempDir())
	err := c.Verify()
	if !errors.Is(err, ErrMissing) {
		t.Fatalf("Verify on empty dir = %v, want ErrMissing", err)
	}
	if !strings.Contains(err.Error(), FixCommand) {
		t.Errorf("error %q does not name %q", err, FixCommand)
	}
}

// TestCache_VerifyRealCache checks the real cache when present, and that a
// corrupted copy of one file is caught.
func TestCache_VerifyRealCache(t *testing.T) {
	dir := os.Getenv(EnvDir)
	if dir == "" {
		dir = filepath.Join("..", "..", DefaultDir)
	}
	c := NewCache(dir)
	if err := c.Verify(); err != nil {
		if os.Getenv("LIVENESS_REQUIRE_MODELS") == "1" {
			t.Fatal(err)
		}
		t.Skipf("model cache incomplete (run `make models`): %v", err)
	}
	// Copy the cache by symlinks, replacing one file with a corrupt copy.
	tmp := NewCache(t.TempDir())
	for _, p := range Manifest {
		for _, f := range c.files(p) {
			dst := tmp.Path(f.Dest)
			os.MkdirAll(filepath.Dir(dst), 0o755)
			if err := os.Symlink(mustAbs(t, c.Path(f.Dest)), dst); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tmp.Verify(); err != nil {
		t.Fatalf("linked copy: %v", err)
	}
	victim := tmp.Path("faceplugin/fr_eye.onnx")
	b, _ := os.ReadFile(victim)
	b[len(b)/2] ^= 0xff
	os.Remove(victim)
	os.WriteFile(victim, b, 0o644)
	err := tmp.Verify()
	if !errors.Is(err, ErrMissing) || !strings.Contains(err.Error(), "fr_eye.onnx") {
		t.Fatalf("Verify with a corrupt fr_eye = %v, want ErrMissing naming the file", err)
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
