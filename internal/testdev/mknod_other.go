//go:build !unix

package testdev

import "errors"

// mknod fails where there are no device nodes.
func mknod(path string, minor int) error { return errors.New("no device nodes on this system") }
