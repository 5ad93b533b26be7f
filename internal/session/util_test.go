package session_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
)

func readFileIfExists(p string) ([]byte, error) {
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return b, err
}

func containsBytes(b, sub []byte) bool { return bytes.Contains(b, sub) }
