package s3

import "syscall"

// mapPart maps n bytes of anonymous memory outside the Go heap.
func mapPart(n int) ([]byte, bool) {
	b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	return b, err == nil
}

// unusePart gives b's pages back to the system; they read as zeros until
// written again.
func unusePart(b []byte) { _ = syscall.Madvise(b, syscall.MADV_DONTNEED) }
