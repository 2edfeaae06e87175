//go:build unix

package main

import "syscall"

// maxRSS is the process's peak resident memory in bytes (Linux reports
// getrusage's ru_maxrss in KiB).
func maxRSS() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return int64(ru.Maxrss) * 1024
}
