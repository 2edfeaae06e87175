package main

import (
	"os"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/backends/xla"
)

// TestMain turns GoMLX's download of missing PJRT plugins off: no test
// may reach the network.
func TestMain(m *testing.M) {
	xla.EnableAutoInstall(false)
	os.Exit(m.Run())
}

// TestBackendSelection: the pure-Go backend by default and by name; an
// unknown backend and an XLA backend without its plugin are errors that
// say what to do, not panics.
func TestBackendSelection(t *testing.T) {
	for _, config := range []string{"", "go"} {
		b, err := newBackend(config)
		if err != nil || b.String() != "go" {
			t.Fatalf("newBackend(%q) = %v, %v; want the pure-Go backend", config, b, err)
		}
	}
	if _, err := newBackend("tpu9000"); err == nil || !strings.Contains(err.Error(), "not one of the backends linked in: go, ") || !strings.Contains(err.Error(), "xla") {
		t.Errorf("an unknown backend: %v", err)
	}
	if _, err := newBackend("xla:cuda"); err == nil || !strings.Contains(err.Error(), "PJRT plugin") {
		t.Errorf("XLA without its CUDA plugin: %v", err)
	}
	t.Setenv("GOMLX_BACKEND", "go")
	if err := run("softmax", 3); err != nil {
		t.Errorf("run on GOMLX_BACKEND=go: %v", err)
	}
}
