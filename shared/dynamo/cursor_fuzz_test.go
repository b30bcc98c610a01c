package dynamo

import (
	"strings"
	"testing"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// FuzzCursor: a cursor encoded for a listing decodes to itself under the same
// key and listing, and to nothing under another listing; any token that
// decodes is the one encoding of what it decodes to (no second spelling of a
// cursor passes the tag check).
const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

func FuzzCursor(f *testing.F) {
	key := []byte("0123456789abcdef0123456789abcdef")
	f.Add(int64(1767225600), uint32(2), []byte("ws-1\x00ready"), "")
	f.Add(int64(0), uint32(1<<31), []byte(""), "AAAA")
	f.Add(int64(4102444800), uint32(7), []byte("ws\x00\x00image"), "Av___________________________________________8")
	// Valid tokens, as issued and with the unused low bits of the last
	// character set: a second spelling of the same cursor.
	listing := []byte("ws-1\x00ready")
	tok := encodeCursor(cursor{afterID: mediatrail.NewIDAt(time.Unix(1767225600, 0)), page: 200}, key, listing)
	f.Add(int64(0), uint32(0), listing, tok)
	last := strings.IndexByte(alphabet, tok[len(tok)-1])
	f.Add(int64(0), uint32(0), listing, tok[:len(tok)-1]+string(alphabet[last|1]))
	f.Fuzz(func(t *testing.T, sec int64, page uint32, listing []byte, token string) {
		if c, err := decodeCursor(token, key, listing); err == nil {
			if again := encodeCursor(c, key, listing); again != token {
				t.Fatalf("token %q decodes to %+v, which encodes as %q", token, c, again)
			}
		} else if mediatrail.ErrorCode(err) != mediatrail.EINVALID {
			t.Fatalf("token %q: %v, want EINVALID", token, err)
		}

		at := time.Unix(sec%(1<<32), 0)
		if at.Before(time.Unix(1400000000, 0)) { // KSUIDs start in 2014
			at = time.Unix(1400000000, 0)
		}
		id := mediatrail.NewIDAt(at)
		want := cursor{afterID: id, page: int(page)%maxCursorPage + 2}
		if want.page > maxCursorPage {
			want.page = maxCursorPage
		}
		tok := encodeCursor(want, key, listing)
		got, err := decodeCursor(tok, key, listing)
		if err != nil || got != want {
			t.Fatalf("round trip of %+v: %+v, %v", want, got, err)
		}
		if _, err := decodeCursor(tok, key, append(listing, 0)); err == nil {
			t.Fatalf("cursor %q moved to another listing", tok)
		}
	})
}
