//go:build race

package liveness_test

// raceEnabled trims the slow real-model tests under -race, where rendering
// and JPEG coding run ten times slower and add nothing to the race checks.
const raceEnabled = true
