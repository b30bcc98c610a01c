package mediatrail_test

import (
	crand "crypto/rand"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/ksuid"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// Our KSUID encoder writes what segmentio/ksuid writes for the same bytes,
// and reads back what it reads: the library is the reference, in tests only.
func TestIDMatchesKSUID(t *testing.T) {
	at := time.Date(2026, 5, 1, 12, 0, 0, 123456789, time.UTC)
	for _, tc := range []time.Time{at, time.Unix(1400000000, 0), time.Unix(1400000000+1<<32-1, 999999999), time.Now()} {
		id := mediatrail.NewIDAt(tc)
		k, err := ksuid.Parse(id)
		if err != nil {
			t.Fatalf("%s: ksuid.Parse: %v", id, err)
		}
		if again, _ := ksuid.FromParts(tc, k.Payload()); again.String() != id {
			t.Errorf("NewIDAt(%v) = %s, ksuid encodes its bytes as %s", tc, id, again)
		}
		if !k.Time().Equal(tc.Truncate(time.Second)) || !mediatrail.IDTime(id).Equal(k.Time()) {
			t.Errorf("%s: ksuid time %v, IDTime %v, want %v", id, k.Time(), mediatrail.IDTime(id), tc.Truncate(time.Second))
		}
		lo, _ := ksuid.FromParts(tc, make([]byte, 16))
		hi, _ := ksuid.FromParts(tc, []byte(strings.Repeat("\xff", 16)))
		if mediatrail.MinIDAt(tc) != lo.String() || mediatrail.MaxIDAt(tc) != hi.String() {
			t.Errorf("MinIDAt, MaxIDAt(%v) = %s, %s; ksuid: %s, %s", tc, mediatrail.MinIDAt(tc), mediatrail.MaxIDAt(tc), lo, hi)
		}
	}
	// Any 20 bytes, including the extremes and single bits: the library's
	// string is valid for us and decodes to the library's time.
	var samples [][]byte
	samples = append(samples, make([]byte, 20), []byte(strings.Repeat("\xff", 20)))
	for bit := range 160 {
		b := make([]byte, 20)
		b[bit/8] = 0x80 >> (bit % 8)
		samples = append(samples, b)
	}
	for range 2000 {
		b := make([]byte, 20)
		_, _ = crand.Read(b)
		samples = append(samples, b)
	}
	for _, b := range samples {
		k, err := ksuid.FromBytes(b)
		if err != nil {
			t.Fatal(err)
		}
		s := k.String()
		if !mediatrail.ValidID(s) || !mediatrail.IDTime(s).Equal(k.Time()) {
			t.Fatalf("%x (%s): ValidID %v, IDTime %v; ksuid time %v", b, s, mediatrail.ValidID(s), mediatrail.IDTime(s), k.Time())
		}
	}
	if s := ksuid.Max.String(); !mediatrail.ValidID(s) {
		t.Errorf("the largest KSUID %s is not valid", s)
	}
}

// ValidID agrees with ksuid.Parse on strings of base62 digits (in range or
// overflowing 20 bytes) and refuses every other byte, which Parse lets
// through.
func TestValidIDMatchesKSUIDParse(t *testing.T) {
	const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	r := rand.New(rand.NewPCG(1, 2))
	max := ksuid.Max.String()
	cases := []string{max, "aWgEPTl1tmebfsQzFP4bxwgy80W", "aWgEPTl1tmebfsQzFP4bxwgy81V", "b00000000000000000000000000",
		strings.Repeat("z", 27), strings.Repeat("0", 27)}
	for range 5000 {
		b := []byte(max)
		// Random digits below a random position of the largest id: some
		// above it, some below.
		for i := r.IntN(27); i < 27; i++ {
			b[i] = digits[r.IntN(62)]
		}
		if r.IntN(2) == 0 {
			b[0] = digits[r.IntN(37)] // up to 'a': often in range
		}
		cases = append(cases, string(b))
	}
	for _, s := range cases {
		_, err := ksuid.Parse(s)
		if got, want := mediatrail.ValidID(s), err == nil; got != want {
			t.Errorf("ValidID(%q) = %v, ksuid.Parse error %v", s, got, err)
		}
	}
	for _, bad := range []string{"00000000000000000000000000-", "0000000000000000000000000/0", "000000000000000000000000 00",
		"00000000000000000000000000\x00", "0000000000000000000000000é"} {
		if mediatrail.ValidID(bad) || !mediatrail.IDTime(bad).IsZero() {
			t.Errorf("ValidID(%q) = %v, IDTime %v; want false, zero", bad, mediatrail.ValidID(bad), mediatrail.IDTime(bad))
		}
	}
}

// ValidRef accepts exactly the references its documented pattern matches.
func TestValidRefMatchesPattern(t *testing.T) {
	pattern := regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)
	const alphabet = "aZ09._:-/ \n\x00é#"
	r := rand.New(rand.NewPCG(3, 4))
	cases := []string{"", "a", "-a", ".", "ws-1", "exec:2026.05_01", strings.Repeat("a", 128), strings.Repeat("a", 129),
		"a\n", "a/b", "é", "a" + strings.Repeat("-", 127)}
	for range 20000 {
		n := r.IntN(6)
		if r.IntN(10) == 0 {
			n = 125 + r.IntN(6)
		}
		var b strings.Builder
		for range n {
			b.WriteByte(alphabet[r.IntN(len(alphabet))])
		}
		cases = append(cases, b.String())
	}
	for _, s := range cases {
		if got, want := mediatrail.ValidRef(s), pattern.MatchString(s); got != want {
			t.Errorf("ValidRef(%q) = %v, pattern says %v", s, got, want)
		}
	}
}

func BenchmarkNewID(b *testing.B) {
	for b.Loop() {
		_ = mediatrail.NewID()
	}
}

func BenchmarkValidID(b *testing.B) {
	id := mediatrail.NewID()
	for b.Loop() {
		if !mediatrail.ValidID(id) {
			b.Fatal(id)
		}
	}
}
