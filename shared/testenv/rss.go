package testenv

import (
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
)

// StartPeakRSS collects garbage, returns the freed memory to the system and
// resets this process's peak RSS (VmHWM, Linux 4.0+) to its current RSS, so
// that PeakRSS afterwards is the peak of what follows: what the bench
// commands print next to the size of their work.
func StartPeakRSS() {
	runtime.GC()
	debug.FreeOSMemory()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// PeakRSS is this process's VmHWM in bytes; 0 where /proc does not tell.
func PeakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
