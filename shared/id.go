package mediatrail

import (
	"crypto/rand"
	"encoding/binary"
	"sync"
	"time"
)

// Ids are KSUIDs (github.com/segmentio/ksuid's format, encoded here so that
// every function does not link and initialise the library): 20 bytes, a
// big-endian uint32 of seconds since ksuidEpoch then a 16-byte payload,
// written as 27 base62 digits, most significant first, left-padded with '0'.
// The digits are in ASCII order, so ids of one length compare as their bytes.
const (
	ksuidEpoch = 1400000000 // Unix time of timestamp 0 (2014-05-13 16:53:20 UTC)
	idLength   = 27
	base62     = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	// maxID is the largest id, 20 bytes of 0xff; every 27-digit string above
	// it is out of range.
	maxID = "aWgEPTl1tmebfsQzFP4bxwgy80V"
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
// t must lie in the KSUID range (2014-05-13 to 2150-06-19 UTC); the seconds of
// a time outside it wrap around, as segmentio/ksuid's FromParts does.
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
	return idFromParts(t, &payload)
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

// idFromParts encodes the KSUID of t's second and payload.
func idFromParts(t time.Time, payload *[16]byte) string {
	var words [5]uint32
	words[0] = uint32(t.Unix() - ksuidEpoch)
	for i := 1; i < 5; i++ {
		words[i] = binary.BigEndian.Uint32(payload[4*(i-1):])
	}
	// Long division of the 160-bit number by 62^5 (below 2^32), five digits
	// per pass, least significant first; 62^27 > 2^160, so 27 digits hold any
	// value.
	const chunk = 62 * 62 * 62 * 62 * 62
	var out [idLength]byte
	for n := idLength; n > 0; {
		var rem uint64
		for i := range words {
			v := rem<<32 | uint64(words[i])
			words[i] = uint32(v / chunk)
			rem = v % chunk
		}
		for k := 0; k < 5 && n > 0; k++ {
			n--
			out[n] = base62[rem%62]
			rem /= 62
		}
	}
	return string(out[:])
}

// base62Digit is the value of the base62 digit c, or -1.
func base62Digit(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'A' <= c && c <= 'Z':
		return int(c-'A') + 10
	case 'a' <= c && c <= 'z':
		return int(c-'a') + 36
	}
	return -1
}

// ValidID reports whether s is a well-formed KSUID: 27 base62 digits whose
// value fits in 20 bytes. Stricter than segmentio/ksuid's Parse, which takes
// any byte for a digit: an id that passes holds only [0-9A-Za-z].
func ValidID(s string) bool {
	if len(s) != idLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		if base62Digit(s[i]) < 0 {
			return false
		}
	}
	return s <= maxID
}

// IDTime returns the creation time encoded in a valid KSUID (its second), or
// the zero time if s is not one.
func IDTime(s string) time.Time {
	if !ValidID(s) {
		return time.Time{}
	}
	// The timestamp is the value's top 32 bits: the value divided by 2^128,
	// computed digit by digit in 160-bit arithmetic (five 32-bit words).
	var words [5]uint32
	for i := 0; i < len(s); i++ {
		carry := uint64(base62Digit(s[i]))
		for j := len(words) - 1; j >= 0; j-- {
			v := uint64(words[j])*62 + carry
			words[j], carry = uint32(v), v>>32
		}
	}
	return time.Unix(int64(words[0])+ksuidEpoch, 0)
}

// MinIDAt and MaxIDAt bound every KSUID minted within the second of t; they turn a
// time range into a key range.
func MinIDAt(t time.Time) string {
	return idFromParts(t, &[16]byte{})
}

func MaxIDAt(t time.Time) string {
	var p [16]byte
	for i := range p {
		p[i] = 0xff
	}
	return idFromParts(t, &p)
}

// ValidRef reports whether s may be used as an external reference (workspace,
// execution, agent, span id): 1-128 characters of [A-Za-z0-9._:-], starting with a
// letter or digit. The alphabet keeps references safe inside storage keys.
func ValidRef(s string) bool {
	if len(s) == 0 || len(s) > 128 || base62Digit(s[0]) < 0 {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; base62Digit(c) < 0 && c != '.' && c != '_' && c != ':' && c != '-' {
			return false
		}
	}
	return true
}
