package mediatrail

import (
	"regexp"
	"time"

	"github.com/segmentio/ksuid"
)

// NewID mints a KSUID: 27 base62 characters whose order is the creation order (to
// the second), which the store relies on for newest-first listing.
func NewID() string { return ksuid.New().String() }

// NewIDAt mints a KSUID carrying time t; used where an id must sort at a given time.
func NewIDAt(t time.Time) string {
	id, err := ksuid.NewRandomWithTime(t)
	if err != nil {
		return ksuid.New().String()
	}
	return id.String()
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
