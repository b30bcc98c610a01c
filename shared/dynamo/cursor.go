package dynamo

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// A cursor is base64url (no padding) of
//
//	version (1 byte) | id of the last returned asset or span (27 bytes) |
//	number of the page it leads to (uvarint) | tag (16 bytes)
//
// where tag is HMAC-SHA256, under the table's cursor key (CursorKey), of the
// listing's identity (workspace, status, filters) and everything before the
// tag. Without the key a cursor cannot be forged or moved to another listing;
// and it holds a position, never a key: the id only bounds a query built from
// the caller's workspace and filter.
const (
	cursorVersion  = 2
	idLen          = 27
	tagLen         = 16
	maxCursorPage  = 1 << 31
	minCursorBytes = 1 + idLen + 1 + tagLen
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

// fingerprintOf is the identity of a listing, its parts NUL-separated (parts
// never hold NUL: they are validated references, types and times).
func fingerprintOf(parts ...string) []byte {
	return []byte(strings.Join(parts, "\x00"))
}

// stamp is a time as fingerprints hold it: "" for the zero time.
func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return formatTime(t)
}

func cursorTag(key, listing, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(listing)
	m.Write([]byte{0})
	m.Write(body)
	return m.Sum(nil)[:tagLen]
}

func encodeCursor(c cursor, key, listing []byte) string {
	b := make([]byte, 0, minCursorBytes+binary.MaxVarintLen64)
	b = append(b, cursorVersion)
	b = append(b, c.afterID...)
	b = binary.AppendUvarint(b, uint64(c.page))
	b = append(b, cursorTag(key, listing, b)...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor parses a token made by encodeCursor under key for listing.
// EINVALID "invalid cursor" for anything else.
func decodeCursor(token string, key, listing []byte) (cursor, error) {
	// Strict: a token has one spelling (no set padding bits), so equal
	// cursors are equal strings for any cache or log keyed by them.
	b, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(b) < minCursorBytes || b[0] != cursorVersion {
		return cursor{}, errInvalidCursor()
	}
	body, tag := b[:len(b)-tagLen], b[len(b)-tagLen:]
	if !hmac.Equal(tag, cursorTag(key, listing, body)) {
		return cursor{}, errInvalidCursor()
	}
	id := string(body[1 : 1+idLen])
	page, n := binary.Uvarint(body[1+idLen:])
	if !mediatrail.ValidID(id) || n != len(body)-1-idLen || page < 2 || page > maxCursorPage {
		return cursor{}, errInvalidCursor()
	}
	return cursor{afterID: id, page: int(page)}, nil
}

// The cursor key lives in the table itself, item cursorKeyPK/cursorKeySK
// (attribute "key", 32 random bytes): every function that lists already reads
// the table, no secret has to be provisioned, and it is the same for every
// function and instance. It is created once, by EnsureCursorKey (cmd/apikey
// after a deploy, the local stack at start) or by the first listing that needs
// it where the role may write; deleting the item rotates it (outstanding
// cursors then answer "invalid cursor").
const (
	cursorKeyPK = "CONFIG"
	cursorKeySK = "CURSOR_KEY"
)

// EnsureCursorKey creates the table's cursor key unless it exists.
func (s *Store) EnsureCursorKey(ctx context.Context) error {
	_, err := s.cursorKey(ctx)
	return err
}

// readCursor decodes token, a cursor of listing fp, under the table's cursor
// key: the key's read error as cursorKey returns it, EINVALID "invalid
// cursor" as decodeCursor does.
func (s *Store) readCursor(ctx context.Context, token string, fp []byte) (cursor, error) {
	key, err := s.cursorKey(ctx)
	if err != nil {
		return cursor{}, err
	}
	return decodeCursor(token, key, fp)
}

// writeCursor encodes c, a cursor of listing fp, under the table's cursor key.
func (s *Store) writeCursor(ctx context.Context, c cursor, fp []byte) (string, error) {
	key, err := s.cursorKey(ctx)
	if err != nil {
		return "", err
	}
	return encodeCursor(c, key, fp), nil
}

// cursorKey returns the table's cursor key, read once per Store.
func (s *Store) cursorKey(ctx context.Context) ([]byte, error) {
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	if s.curKey != nil {
		return s.curKey, nil
	}
	key := map[string]types.AttributeValue{"PK": str(cursorKeyPK), "SK": str(cursorKeySK)}
	for range 2 {
		out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key, ConsistentRead: aws.Bool(true)})
		if err != nil {
			return nil, fmt.Errorf("dynamo: read cursor key: %w", err)
		}
		if b, ok := out.Item["key"].(*types.AttributeValueMemberB); ok && len(b.Value) >= 32 {
			s.curKey = b.Value
			return s.curKey, nil
		}
		fresh := make([]byte, 32)
		_, _ = rand.Read(fresh)
		_, err = s.client.PutItem(ctx, &dynamodb.PutItemInput{
			TableName:           &s.table,
			Item:                map[string]types.AttributeValue{"PK": str(cursorKeyPK), "SK": str(cursorKeySK), "key": &types.AttributeValueMemberB{Value: fresh}},
			ConditionExpression: aws.String("attribute_not_exists(PK)"),
		})
		if _, lost := conditionFailed(err, 0); err != nil && !lost {
			return nil, fmt.Errorf("dynamo: create cursor key: %w", err)
		}
	}
	return nil, errors.New("dynamo: cursor key is malformed")
}
