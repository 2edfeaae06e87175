package main

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionLine(t *testing.T) {
	info := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.3"}, Settings: []debug.BuildSetting{
		{Key: "GOOS", Value: "linux"}, {Key: "GOARCH", Value: "amd64"},
		{Key: "vcs.revision", Value: "822f06c0123456789abcdef"}, {Key: "vcs.time", Value: "2026-12-01T23:25:03Z"},
		{Key: "vcs.modified", Value: "true"},
	}}
	if got, want := versionLine(info), "xent v1.2.3 (commit 822f06c01234, 2026-12-01T23:25:03Z, modified), go1.26.8 linux/amd64"; got != want {
		t.Errorf("versionLine = %q, want %q", got, want)
	}
	info.Main.Version, info.Settings = "", nil
	if got := versionLine(info); !strings.HasPrefix(got, "xent (devel), go1.26.8 ") {
		t.Errorf("without settings: %q", got)
	}
	stdout, _, code := runCLI("version")
	if code != 0 || !strings.HasPrefix(stdout, "xent ") || !strings.Contains(stdout, "go1.") {
		t.Errorf("xent version: exit %d, %q", code, stdout)
	}
}
