package memlimit

import (
	"bufio"
	"bytes"
	"math"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// limits returns the bounds Linux sets on this process.
func limits() []Limit {
	var out []Limit
	mapped := vmSize()
	for _, r := range []struct {
		resource int
		what     string
	}{{syscall.RLIMIT_AS, "the address-space limit (ulimit -v)"}, {syscall.RLIMIT_DATA, "the data-segment limit (ulimit -d)"}} {
		var rl syscall.Rlimit
		if syscall.Getrlimit(r.resource, &rl) != nil || rl.Cur == math.MaxUint64 {
			continue
		}
		left := uint64(0)
		if rl.Cur > mapped {
			left = rl.Cur - mapped
		}
		out = append(out, Limit{left, r.what})
	}
	if m, ok := meminfo(); ok {
		out = append(out, Limit{m, "available memory"})
	}
	if c, ok := cgroupLeft(); ok {
		out = append(out, Limit{c, "the cgroup's memory.max"})
	}
	return out
}

// vmSize is the process's mapped address space in bytes (VmSize).
func vmSize() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmSize:"); ok {
			return kib(rest)
		}
	}
	return 0
}

// meminfo returns MemAvailable + SwapFree.
func meminfo() (uint64, bool) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	var avail, swap uint64
	found := false
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := s.Text()
		if rest, ok := strings.CutPrefix(line, "MemAvailable:"); ok {
			avail, found = kib(rest), true
		} else if rest, ok := strings.CutPrefix(line, "SwapFree:"); ok {
			swap = kib(rest)
		}
	}
	return Add(avail, swap), found
}

// kib reads "  123456 kB" as bytes.
func kib(s string) uint64 {
	v, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(s), " kB"), 10, 64)
	if err != nil {
		return 0
	}
	return Add(v*1024, 0)
}

// cgroupLeft returns memory.max − memory.current of the process's cgroup
// (version 2), when it has a limit.
func cgroupLeft() (uint64, bool) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return 0, false
	}
	for line := range bytes.Lines(b) {
		path, ok := bytes.CutPrefix(bytes.TrimSpace(line), []byte("0::"))
		if !ok {
			continue
		}
		dir := "/sys/fs/cgroup" + string(path)
		max, err1 := os.ReadFile(dir + "/memory.max")
		cur, err2 := os.ReadFile(dir + "/memory.current")
		if err1 != nil || err2 != nil {
			return 0, false
		}
		m, err1 := strconv.ParseUint(strings.TrimSpace(string(max)), 10, 64)
		c, err2 := strconv.ParseUint(strings.TrimSpace(string(cur)), 10, 64)
		if err1 != nil || err2 != nil { // "max": no limit
			return 0, false
		}
		if c > m {
			return 0, true
		}
		return m - c, true
	}
	return 0, false
}
