package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

const versionSynopsis = `

Prints the module version of this build, the commit it was built from
(with "modified" when the work tree had changes), and the Go version,
from the build information the go command records.`

func runVersion(stdout, stderr io.Writer, args []string) error {
	fs := newFlagSet("version", versionSynopsis)
	if err := parseFlags(fs, stdout, args); err != nil {
		return err
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		_, err := fmt.Fprintf(stdout, "xent, no build information, %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return err
	}
	_, err := fmt.Fprintln(stdout, versionLine(info))
	return err
}

// versionLine is "xent v1.2.3 (commit 822f06c, 2026-12-01T23:25:03Z),
// go1.26.8 linux/amd64", with what the build information has.
func versionLine(info *debug.BuildInfo) string {
	version := info.Main.Version
	if version == "" {
		version = "(devel)"
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	line := "xent " + version
	if rev := settings["vcs.revision"]; rev != "" {
		line += " (commit " + rev[:min(12, len(rev))]
		if t := settings["vcs.time"]; t != "" {
			line += ", " + t
		}
		if settings["vcs.modified"] == "true" {
			line += ", modified"
		}
		line += ")"
	}
	goos, goarch := settings["GOOS"], settings["GOARCH"]
	if goos == "" {
		goos, goarch = runtime.GOOS, runtime.GOARCH
	}
	return fmt.Sprintf("%s, %s %s/%s", line, info.GoVersion, goos, goarch)
}
