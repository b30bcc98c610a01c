package localstack

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// ErrDataDirInUse is what Start answers when another stack holds DataDir.
var ErrDataDirInUse = errors.New("data folder in use")

// LockDataDir takes the exclusive lock of dir (an flock on dir/lock, which
// the kernel releases when the process ends, however it ends) so that two
// stacks never start emulators on the same data. The lock file names the
// holder's pid for the message of the next one.
func LockDataDir(dir string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(f.Name())
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s is used by another local stack (pid %s); stop it first, or use it: make invoke, make demo and make reconcile find a running `make run` by themselves",
				ErrDataDirInUse, dir, cmpOr(strings.TrimSpace(string(holder)), "unknown"))
		}
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}

func cmpOr(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

// DefaultPort is the API gateway's port when PORT is unset.
const DefaultPort = 3000

// StablePorts are the gateway and S3 ports of the stacks that keep their
// data in .data: PORT (default DefaultPort) and PORT+1. A fixed S3 port keeps
// the signed URLs such a stack printed (make demo) working after a restart,
// since a URL names its host and port. PORT=0 picks free ports for both.
func StablePorts(getenv func(string) string) (gateway, s3 int, err error) {
	gateway = DefaultPort
	if v := strings.TrimSpace(getenv("PORT")); v != "" {
		if gateway, err = strconv.Atoi(v); err != nil || gateway < 0 || gateway > 65534 {
			return 0, 0, fmt.Errorf("PORT=%q: want a port number from 1 to 65534 (the S3 emulator takes PORT+1), or 0 for free ones", v)
		}
	}
	if gateway == 0 {
		return 0, 0, nil // both free, chosen at start: nothing stays stable
	}
	return gateway, gateway + 1, nil
}
