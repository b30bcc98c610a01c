package s3

import (
	"runtime"
	"testing"
)

// A released part buffer comes back to the next Put, and a reader of it
// after its release (a transport late on a finished part) sees zeros on
// Linux, never unmapped memory; buffers the pool did not hand out are left
// alone.
func TestPartBuffersAreReused(t *testing.T) {
	var p partPool
	a := p.get()
	if len(a) != PartSize {
		t.Fatalf("got %d bytes, want %d", len(a), PartSize)
	}
	a[0], a[PartSize-1] = 7, 7
	p.release(a[:10]) // as Put releases a short first part
	if runtime.GOOS == "linux" && (a[0] != 0 || a[PartSize-1] != 0) {
		t.Fatalf("a released mapped buffer reads %d, %d; want zeros", a[0], a[PartSize-1])
	}
	b := p.get()
	if runtime.GOOS == "linux" && &b[0] != &a[0] {
		t.Fatal("the released buffer was not reused")
	}
	p.release(make([]byte, PartSize)) // not the pool's: ignored
	if n := len(p.free); n != 0 {
		t.Fatalf("the pool kept %d foreign buffers", n)
	}
	p.release(b)
}
