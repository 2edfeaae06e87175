// Package testdev makes private copies of /dev/null and /dev/full for
// tests that write to devices, so that a regression that replaces a
// device with a regular file damages a test's temporary directory and not
// the machine's /dev.
package testdev

import (
	"path/filepath"
	"testing"
)

// Linux's memory devices: major 1, minor 3 (null) and 7 (full).
const (
	nullMinor = 3
	fullMinor = 7
)

// Null returns the path of a new null device in dir; the test is skipped
// where device nodes cannot be made (not root, or not Linux).
func Null(t testing.TB, dir string) string { return node(t, dir, "null", nullMinor) }

// Full returns the path of a new full device (every write fails with
// ENOSPC) in dir, or skips the test as Null does.
func Full(t testing.TB, dir string) string { return node(t, dir, "full", fullMinor) }

func node(t testing.TB, dir, name string, minor int) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := mknod(path, minor); err != nil {
		t.Skipf("cannot make a device node for this test: %v", err)
	}
	return path
}
