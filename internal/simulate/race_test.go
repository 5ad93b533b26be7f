//go:build race

package simulate_test

// raceEnabled trims the motion tests under -race, where rendering and JPEG
// coding run ten times slower and add nothing to the race checks.
const raceEnabled = true
