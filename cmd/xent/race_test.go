//go:build race

package main

// raceEnabled: the race detector maps terabytes of shadow memory, so its
// processes cannot run under an address-space limit.
const raceEnabled = true
