//go:build !unix

package main

// maxRSS is 0 where getrusage does not exist: the report's peak memory is
// unknown there.
func maxRSS() int64 { return 0 }
