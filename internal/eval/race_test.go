//go:build race

package eval

// raceEnabled trims the real-data tests under -race to the sample photos:
// the pure-Go image work runs ten times slower and adds nothing to the race
// checks.
const raceEnabled = true
