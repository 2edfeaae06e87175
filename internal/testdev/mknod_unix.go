//go:build unix

package testdev

import "syscall"

// mknod makes a character device of Linux's memory devices (major 1).
func mknod(path string, minor int) error {
	return syscall.Mknod(path, syscall.S_IFCHR|0o666, 1<<8|minor)
}
