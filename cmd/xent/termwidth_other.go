//go:build !unix

package main

import "os"

// terminalWidth: unknown here; the progress line takes 80 columns.
func terminalWidth(*os.File) int { return 0 }
