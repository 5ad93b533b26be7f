package infer

import (
	"errors"
	"os"
	"path/filepath"
)

// WriteModelFile writes a derived model file (a TF.js translation, an int8
// build) atomically: a temporary file in the same directory, renamed into
// place, so a reader never sees half a model and concurrent builders of the
// same file do not corrupt it.
func WriteModelFile(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, werr := f.Write(b)
	if err := errors.Join(werr, f.Close()); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
