package mediatrail_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"image"
	"image/png"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/provenance"
)

// provenanceStore is one workspace's records and spans, in memory: the
// choices of ProvenanceService are tested here, the store in shared/e2e.
type provenanceStore struct {
	ws     string
	assets []*mediatrail.Asset // newest first
	spans  map[string]*mediatrail.Span
}

func (s *provenanceStore) FindAssetsBySHA256(_ context.Context, ws, sha string) ([]*mediatrail.Asset, error) {
	var out []*mediatrail.Asset
	for _, a := range s.assets {
		if ws == s.ws && a.SHA256 == sha {
			out = append(out, a)
		}
	}
	return out, nil
}

func (s *provenanceStore) FindAsset(_ context.Context, ws, id string) (*mediatrail.Asset, error) {
	for _, a := range s.assets {
		if ws == s.ws && a.ID == id {
			return a, nil
		}
	}
	return nil, mediatrail.NotFound("id", "asset not found")
}

func (s *provenanceStore) GetSpan(_ context.Context, ws, id string) (*mediatrail.Span, error) {
	if sp := s.spans[id]; sp != nil && ws == s.ws {
		return sp, nil
	}
	return nil, mediatrail.NotFound("span_id", "span not found")
}

func TestProvenanceLookupChoices(t *testing.T) {
	ids := make([]string, 6)
	for i := range ids {
		ids[i] = mediatrail.NewID()
	}
	sha := func(b string) string { s := sha256.Sum256([]byte(b)); return hex.EncodeToString(s[:]) }
	asset := func(id, bytes string, status mediatrail.AssetStatus, span string) *mediatrail.Asset {
		return &mediatrail.Asset{ID: id, WorkspaceID: "ws", SHA256: sha(bytes), Status: status, SpanID: span, ExecutionID: "exec", AgentID: "agent"}
	}
	// An image whose XMP names ids[0]; re-encoded, its bytes differ.
	embedded := func(assetID, spanID string) []byte {
		r, err := provenance.Embed(bytes.NewReader(pngHeader()), "image/png", provenance.Record{AssetID: assetID, WorkspaceID: "ws", SpanID: spanID})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r)
		return b
	}
	file := embedded(ids[0], ids[5])
	store := &provenanceStore{ws: "ws",
		assets: []*mediatrail.Asset{
			asset(ids[4], "pending", mediatrail.StatusPending, ""),
			asset(ids[3], string(file), mediatrail.StatusReady, ""), // the same bytes uploaded later
			asset(ids[2], "gone", mediatrail.StatusDeleted, ids[5]),
			asset(ids[0], string(file), mediatrail.StatusReady, ids[5]),
		},
		spans: map[string]*mediatrail.Span{ids[5]: {ID: ids[5], AssetID: ids[0], ExecutionID: "exec", Prompt: "a fox"}},
	}
	svc := &mediatrail.ProvenanceService{Store: store}
	for _, tc := range []struct {
		name      string
		ws        string
		q         mediatrail.ProvenanceQuery
		code      string // "" for an answer
		by, asset string
		deleted   bool
		others    []string
		tried     int
	}{
		{name: "file: the asset its XMP names wins among equal bytes", ws: "ws", q: mediatrail.ProvenanceQuery{File: file},
			by: "sha256", asset: ids[0], others: []string{ids[3]}},
		{name: "sha256: newest ready", ws: "ws", q: mediatrail.ProvenanceQuery{SHA256: strings.ToUpper(sha(string(file)))},
			by: "sha256", asset: ids[3], others: []string{ids[0]}},
		{name: "pending upload is not answered", ws: "ws", q: mediatrail.ProvenanceQuery{SHA256: sha("pending")}, code: mediatrail.ENOTFOUND, tried: 1},
		{name: "tombstone answers deleted", ws: "ws", q: mediatrail.ProvenanceQuery{SHA256: sha("gone")}, by: "sha256", asset: ids[2], deleted: true},
		{name: "re-encoded: embedded id", ws: "ws", q: mediatrail.ProvenanceQuery{File: append(embedded(ids[0], ids[5]), 0)},
			by: "embedded_asset_id", asset: ids[0]},
		{name: "purged record: the span the file names", ws: "ws", q: mediatrail.ProvenanceQuery{File: embedded(ids[1], ids[5])},
			code: mediatrail.ENOTFOUND, tried: 2}, // the span made ids[0], not ids[1]
		{name: "no metadata", ws: "ws", q: mediatrail.ProvenanceQuery{File: []byte("plain")}, code: mediatrail.ENOTFOUND, tried: 2},
		{name: "other workspace", ws: "other", q: mediatrail.ProvenanceQuery{File: file}, code: mediatrail.ENOTFOUND, tried: 2},
		{name: "nothing asked", ws: "ws", q: mediatrail.ProvenanceQuery{}, code: mediatrail.EINVALID},
		{name: "two things asked", ws: "ws", q: mediatrail.ProvenanceQuery{SHA256: sha("x"), AssetID: ids[0]}, code: mediatrail.EINVALID},
		{name: "too large", ws: "ws", q: mediatrail.ProvenanceQuery{File: make([]byte, mediatrail.MaxProvenanceFileBytes+1)}, code: mediatrail.ETOOLARGE},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := svc.Lookup(context.Background(), tc.ws, tc.q)
			if tc.code != "" {
				var e *mediatrail.Error
				if !errors.As(err, &e) || e.Code != tc.code {
					t.Fatalf("answer %+v, error %v; want %s", p, err, tc.code)
				}
				if tried := e.Details["tried"]; tc.tried > 0 && (tried == nil || reflect.ValueOf(tried).Len() != tc.tried) {
					t.Errorf("tried = %v, want %d entries", tried, tc.tried)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.MatchedBy != tc.by || p.AssetID != tc.asset || p.Deleted != tc.deleted || (p.Asset == nil) != tc.deleted ||
				!slices.Equal(p.OtherAssetIDs, tc.others) || p.ExecutionID != "exec" {
				t.Errorf("answer %+v", p)
			}
		})
	}
	// The record purged, the file still names the span that made it.
	store.assets = store.assets[:3]
	p, err := svc.Lookup(context.Background(), "ws", mediatrail.ProvenanceQuery{File: append(file, 1)})
	if err != nil || !p.Deleted || p.Span == nil || p.Span.Prompt != "a fox" || p.MatchedBy != "embedded_asset_id" {
		t.Errorf("after purge: %+v, %v", p, err)
	}
}

// pngHeader is a 1×1 PNG (an IDAT for the XMP to precede).
func pngHeader() []byte {
	var b bytes.Buffer
	_ = png.Encode(&b, image.NewGray(image.Rect(0, 0, 1, 1)))
	return b.Bytes()
}
