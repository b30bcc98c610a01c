package s3

import "sync"

// partBuffers hands out the PartSize buffers of Put: the first part's and, for a
// multipart upload, the next part's. Where the platform allows (Linux), they
// are anonymous mappings outside the Go heap, so that what bounds a Put's
// memory is 2 × PartSize per Put in flight and nothing proportional to it:
//
// The garbage collector starts a cycle when the heap reaches twice what the
// last one left live (GOGC=100). Two 5 MiB part buffers on the heap raise
// that live set by 10 MiB, so a long upload accumulates 10 MiB more of the
// SDK's per-request garbage (about 0.1 MiB per part) before a collection: a
// 1 GiB video peaked 1.3 × a 64 MiB one (issue 14), which ends before the
// heap gets there. Off the heap the buffers count once, and the collector's
// headroom is that of the small rest.
//
// A released buffer is kept for the next Put with its pages given back to the
// system (it leaves the resident set); it is never unmapped, so an HTTP
// transport still reading a finished part's body (net/http may, after an early
// response) reads zeros, never unmapped memory.
var partBuffers partPool

type partPool struct {
	mu   sync.Mutex
	free [][]byte
	// mapped are the buffers this pool handed out, by their first byte:
	// release takes back only those.
	mapped map[*byte]bool
}

// get is a PartSize buffer, from the pool when the platform maps them.
func (p *partPool) get() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.free); n > 0 {
		b := p.free[n-1]
		p.free = p.free[:n-1]
		return b
	}
	b, ok := mapPart(PartSize)
	if !ok {
		return make([]byte, PartSize)
	}
	if p.mapped == nil {
		p.mapped = map[*byte]bool{}
	}
	p.mapped[&b[0]] = true
	return b
}

// release returns b to the pool when get mapped it; any other buffer is left
// to the garbage collector. The caller must not use b afterwards.
func (p *partPool) release(b []byte) {
	if cap(b) != PartSize {
		return
	}
	b = b[:PartSize]
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.mapped[&b[0]] {
		return
	}
	unusePart(b)
	p.free = append(p.free, b)
}
