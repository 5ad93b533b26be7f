package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/livenessd/livenessd/internal/session"
	"github.com/livenessd/livenessd/internal/store/sealed"
)

// envDataKeys holds the data keys (environment only: a flag would show
// them in the process list).
const envDataKeys = "LIVENESS_DATA_KEYS"

// errNoDataKeys refuses a production start that would store biometric data
// in the clear.
var errNoDataKeys = errors.New(envDataKeys + " is not set: reference and audit images would be stored unencrypted; " +
	"set it to a key from `livenessd keys data-key` (comma-separated, newest first), or pass --allow-plaintext")

// loadDataKeys reads the data keys. Without any it returns nil in
// development mode or with allowPlaintext, and errNoDataKeys otherwise.
func loadDataKeys(dev, allowPlaintext bool) (*sealed.Keys, error) {
	keys, err := sealed.ParseKeys(os.Getenv(envDataKeys))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", errUsage, envDataKeys, err)
	}
	if keys == nil && !dev && !allowPlaintext {
		return nil, fmt.Errorf("%w: %v", errUsage, errNoDataKeys)
	}
	return keys, nil
}

// sealStore wraps st so that every image is sealed before it reaches the
// store; without keys it warns and returns st.
func sealStore(st session.Store, keys *sealed.Keys, log *slog.Logger) (session.Store, error) {
	if keys == nil {
		log.Warn("biometric images are stored unencrypted: set " + envDataKeys + " (`livenessd keys data-key`)")
		return st, nil
	}
	log.Info("biometric images encrypted at rest", "data_keys", keys.Len())
	return sealed.New(st, keys)
}
