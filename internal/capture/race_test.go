//go:build race

package capture_test

// raceEnabled trims the slowest real-model captures under -race, where the
// pure-Go image work runs ten times slower and adds nothing to the race
// checks.
const raceEnabled = true
