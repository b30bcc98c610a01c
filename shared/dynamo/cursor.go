package dynamo

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"strings"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// A cursor is base64url (no padding) of
//
//	version (1 byte) | id of the last returned asset (27 bytes) |
//	filter fingerprint (8 bytes) | number of the page it leads to (uvarint)
//
// It holds a position, never a key: the id only bounds a query built from the
// caller's workspace and filter, so a forged cursor can only move within the
// caller's own listing.
const (
	cursorVersion     = 1
	idLen             = 27
	fingerprintLen    = 8
	maxCursorPage     = 1 << 31
	cursorHeaderBytes = 1 + idLen + fingerprintLen
)

type cursor struct {
	afterID string
	page    int
}

func errInvalidCursor() error { return mediatrail.Invalid("cursor", "invalid cursor") }

// fingerprint identifies a listing: workspace, status and filters, not the
// limit, which may change from page to page.
func fingerprint(ws string, status mediatrail.AssetStatus, f mediatrail.AssetFilter) []byte {
	return fingerprintOf(ws, string(status), f.ExecutionID, f.AgentID, string(f.Type), f.Provider, stamp(f.CreatedAfter), stamp(f.CreatedBefore))
}

// fingerprintOf hashes the parts of a listing's identity, NUL-separated.
func fingerprintOf(parts ...string) []byte {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return sum[:fingerprintLen]
}

// stamp is a time as fingerprints hold it: "" for the zero time.
func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return formatTime(t)
}

func encodeCursor(c cursor, fp []byte) string {
	b := make([]byte, 0, cursorHeaderBytes+binary.MaxVarintLen64)
	b = append(b, cursorVersion)
	b = append(b, c.afterID...)
	b = append(b, fp...)
	b = binary.AppendUvarint(b, uint64(c.page))
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor parses a token made by encodeCursor for the listing fp.
// EINVALID "invalid cursor" for anything else.
func decodeCursor(token string, fp []byte) (cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) <= cursorHeaderBytes || b[0] != cursorVersion {
		return cursor{}, errInvalidCursor()
	}
	id := string(b[1 : 1+idLen])
	if !mediatrail.ValidID(id) || !bytes.Equal(b[1+idLen:cursorHeaderBytes], fp) {
		return cursor{}, errInvalidCursor()
	}
	page, n := binary.Uvarint(b[cursorHeaderBytes:])
	if n != len(b)-cursorHeaderBytes || page < 2 || page > maxCursorPage {
		return cursor{}, errInvalidCursor()
	}
	return cursor{afterID: id, page: int(page)}, nil
}
