package mediatrail

import (
	"crypto/rand"
	"encoding/binary"
	"regexp"
	"sync"
	"time"

	"github.com/segmentio/ksuid"
)

// NewID mints an id for now; see NewIDAt.
func NewID() string { return NewIDAt(time.Now()) }

// NewIDAt mints a KSUID carrying time t: 27 base62 characters whose order is
// the order of their times to the nanosecond, which the store relies on for
// newest-first listing. The KSUID's own timestamp holds the second; the first 4
// bytes of its payload hold the nanoseconds within it (big-endian) and the
// other 12 are random. Ids minted in this process for the same nanosecond
// follow each other in minting order (the random part of the previous one plus
// one), so assets created in one second list exactly in creation order.
// Ids minted before this layout keep a random payload: they sort to the second.
func NewIDAt(t time.Time) string {
	var payload [16]byte
	binary.BigEndian.PutUint32(payload[:4], uint32(t.Nanosecond()))
	mint.Lock()
	defer mint.Unlock()
	if t.Unix() == mint.last.Unix() && t.Nanosecond() == mint.last.Nanosecond() && increment(mint.tail[:]) {
		copy(payload[4:], mint.tail[:])
	} else {
		_, _ = rand.Read(payload[4:]) // never fails (crypto/rand)
		copy(mint.tail[:], payload[4:])
	}
	mint.last = t
	id, err := ksuid.FromParts(t, payload[:])
	if err != nil { // t outside the KSUID range (before 2014 or after 2150)
		return ksuid.New().String()
	}
	return id.String()
}

// mint is the last time NewIDAt was given and the random part of its id.
var mint struct {
	sync.Mutex
	last time.Time
	tail [12]byte
}

// increment adds one to the big-endian number b and reports false on overflow.
func increment(b []byte) bool {
	for i := len(b) - 1; i >= 0; i-- {
		b[i]++
		if b[i] != 0 {
			return true
		}
	}
	return false
}

// ValidID reports whether s is a well-formed KSUID.
func ValidID(s string) bool {
	if len(s) != 27 {
		return false
	}
	_, err := ksuid.Parse(s)
	return err == nil
}

// IDTime returns the creation time encoded in a valid KSUID.
func IDTime(s string) time.Time {
	id, err := ksuid.Parse(s)
	if err != nil {
		return time.Time{}
	}
	return id.Time()
}

// MinIDAt and MaxIDAt bound every KSUID minted within the second of t; they turn a
// time range into a key range.
func MinIDAt(t time.Time) string {
	id, _ := ksuid.FromParts(t, make([]byte, 16))
	return id.String()
}

func MaxIDAt(t time.Time) string {
	p := make([]byte, 16)
	for i := range p {
		p[i] = 0xff
	}
	id, _ := ksuid.FromParts(t, p)
	return id.String()
}

var refPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)

// ValidRef reports whether s may be used as an external reference (workspace,
// execution, agent, span id): 1-128 characters of [A-Za-z0-9._:-], starting with a
// letter or digit. The alphabet keeps references safe inside storage keys.
func ValidRef(s string) bool { return refPattern.MatchString(s) }
