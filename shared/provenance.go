package mediatrail

import (
	"context"
	"crypto/sha256"
	"encoding/hex"

	"github.com/mediatrail/mediatrail/shared/provenance"
)

// MaxProvenanceFileBytes bounds a file sent to POST /api/v1/provenance: the
// largest binary body that still fits in Lambda's 6 MiB synchronous request
// payload once API Gateway has base64-encoded it (4/3), leaving 64 KiB for
// the rest of the event (headers, request context). A larger file could not
// reach the function on AWS; locally it is refused the same way (413).
const MaxProvenanceFileBytes = (6<<20 - 64<<10) / 4 * 3

// ProvenanceStore reads what answers "who made this file?". Every method is
// scoped by workspace.
type ProvenanceStore interface {
	// FindAssetsBySHA256 returns the workspace's asset records (any status)
	// whose bytes have SHA-256 sha, newest first.
	FindAssetsBySHA256(ctx context.Context, workspaceID, sha string) ([]*Asset, error)
	// FindAsset returns an asset in any status. ENOTFOUND if there is none.
	FindAsset(ctx context.Context, workspaceID, id string) (*Asset, error)
	// GetSpan returns a span. ENOTFOUND if there is none.
	GetSpan(ctx context.Context, workspaceID, id string) (*Span, error)
}

// ProvenanceQuery is what POST /api/v1/provenance asks about: a file's bytes,
// or the JSON body {"sha256": ...} or {"asset_id": ...} (exactly one).
type ProvenanceQuery struct {
	SHA256  string `json:"sha256"`
	AssetID string `json:"asset_id"`
	// File is a copy of the file itself (a raw request body).
	File []byte `json:"-"`
}

// How a provenance answer was found.
const (
	MatchedBySHA256          = "sha256"            // the SHA-256 of the bytes (or the one asked for)
	MatchedByEmbeddedAssetID = "embedded_asset_id" // the asset id in the file's XMP
	MatchedByAssetID         = "asset_id"          // the asset id asked for
)

// Provenance answers who made a file: the asset, the span of the call that
// produced it (prompt, provider, model, cost, tool; none for uploads), and
// its execution and agent.
//
// A deleted asset's record is gone but its span stays (marked
// asset_deleted): when the span can still be reached (the file's embedded
// record names it, or the record is a tombstone being removed) the answer is
// the span with Deleted set and no Asset; by SHA-256 or asset id alone a
// deleted asset is not found.
type Provenance struct {
	MatchedBy   string `json:"matched_by"`
	AssetID     string `json:"asset_id"`
	Deleted     bool   `json:"deleted"`
	Asset       *Asset `json:"asset,omitempty"`
	Span        *Span  `json:"span,omitempty"`
	WorkspaceID string `json:"workspace_id"`
	ExecutionID string `json:"execution_id"`
	AgentID     string `json:"agent_id"`
	// OtherAssetIDs are further assets of the workspace holding the same
	// bytes (the same file uploaded twice), newest first.
	OtherAssetIDs []string `json:"other_asset_ids,omitempty"`
}

// ProvenanceService answers provenance look-ups within the caller's
// workspace: another workspace's file is not found, never answered.
type ProvenanceService struct {
	Store ProvenanceStore
}

// attempt is one look-up tried, as the 404's details.tried lists it.
type attempt struct {
	By     string `json:"by"`
	Value  string `json:"value,omitempty"`
	Result string `json:"result"`
}

// Lookup answers q: a file by the SHA-256 of its bytes first, else by the
// asset id embedded in its XMP (which survives a re-encode that copies the
// metadata); a sha256 or asset id as given. EINVALID unless exactly one of
// File, SHA256 and AssetID is set (or for a malformed one); ETOOLARGE for a
// file over MaxProvenanceFileBytes; ENOTFOUND, with details.tried listing
// each look-up and its result, when nothing of the workspace matches.
func (s *ProvenanceService) Lookup(ctx context.Context, ws string, q ProvenanceQuery) (*Provenance, error) {
	given := 0
	for _, set := range []bool{len(q.File) > 0, q.SHA256 != "", q.AssetID != ""} {
		if set {
			given++
		}
	}
	if given != 1 {
		return nil, Invalid("body", "send the file's bytes, or a JSON object with exactly one of sha256 and asset_id")
	}
	if len(q.File) > MaxProvenanceFileBytes {
		return nil, TooLarge("", "the file must be at most %d bytes", MaxProvenanceFileBytes)
	}
	var tried []attempt
	switch {
	case q.AssetID != "":
		if !ValidID(q.AssetID) {
			return nil, Invalid("asset_id", "asset id must be a 27-character KSUID")
		}
		p, err := s.byID(ctx, ws, q.AssetID, "", MatchedByAssetID, &tried)
		return s.found(p, err, tried)
	case q.SHA256 != "":
		sha, err := ValidateSHA256(q.SHA256)
		if err != nil {
			return nil, err
		}
		p, err := s.bySHA(ctx, ws, sha, "", &tried)
		return s.found(p, err, tried)
	}
	sum := sha256.Sum256(q.File)
	rec, embedded := provenance.Find(q.File)
	p, err := s.bySHA(ctx, ws, hex.EncodeToString(sum[:]), rec.AssetID, &tried)
	if p != nil || err != nil || !embedded {
		if err == nil && p == nil {
			tried = append(tried, attempt{By: MatchedByEmbeddedAssetID, Result: "the file carries no mediatrail provenance metadata"})
		}
		return s.found(p, err, tried)
	}
	p, err = s.byID(ctx, ws, rec.AssetID, rec.SpanID, MatchedByEmbeddedAssetID, &tried)
	return s.found(p, err, tried)
}

// found turns "no answer" into ENOTFOUND with what was tried.
func (s *ProvenanceService) found(p *Provenance, err error, tried []attempt) (*Provenance, error) {
	if err != nil || p != nil {
		return p, err
	}
	return nil, NotFound("", "no asset of this workspace matches").With("tried", tried)
}

// bySHA answers from the newest stored asset with bytes sha: the one the
// file's metadata names when it is among them, else the newest ready one,
// else a tombstone. Pending uploads (bytes not yet verified) do not count.
func (s *ProvenanceService) bySHA(ctx context.Context, ws, sha, embeddedID string, tried *[]attempt) (*Provenance, error) {
	assets, err := s.Store.FindAssetsBySHA256(ctx, ws, sha)
	if err != nil {
		return nil, err
	}
	var best *Asset
	var others []string
	for _, a := range assets {
		switch {
		case a.Status == StatusPending:
			continue
		case best == nil, a.ID == embeddedID, best.Status == StatusDeleted && a.Status == StatusReady:
			if best != nil {
				others = append(others, best.ID)
			}
			best = a
		default:
			others = append(others, a.ID)
		}
	}
	if best == nil {
		*tried = append(*tried, attempt{By: MatchedBySHA256, Value: sha, Result: "no asset of this workspace has these bytes"})
		return nil, nil
	}
	p, err := s.answer(ctx, best, MatchedBySHA256)
	if p != nil {
		p.OtherAssetIDs = others
	}
	return p, err
}

// byID answers from the asset id; when its record is gone, from spanID's
// span if that span produced the asset (it outlives the deletion).
func (s *ProvenanceService) byID(ctx context.Context, ws, id, spanID, by string, tried *[]attempt) (*Provenance, error) {
	a, err := s.Store.FindAsset(ctx, ws, id)
	switch {
	case err == nil && a.Status != StatusPending:
		return s.answer(ctx, a, by)
	case err != nil && !IsNotFound(err):
		return nil, err
	}
	if spanID != "" {
		sp, err := s.Store.GetSpan(ctx, ws, spanID)
		switch {
		case err == nil && sp.AssetID == id:
			return &Provenance{MatchedBy: by, AssetID: id, Deleted: true, Span: sp, WorkspaceID: ws,
				ExecutionID: sp.ExecutionID, AgentID: sp.AgentID}, nil
		case err != nil && !IsNotFound(err):
			return nil, err
		}
	}
	*tried = append(*tried, attempt{By: by, Value: id, Result: "no asset of this workspace has this id"})
	return nil, nil
}

// answer is the provenance of a found record, with its span when it has one.
func (s *ProvenanceService) answer(ctx context.Context, a *Asset, by string) (*Provenance, error) {
	p := &Provenance{MatchedBy: by, AssetID: a.ID, Asset: a, WorkspaceID: a.WorkspaceID,
		ExecutionID: a.ExecutionID, AgentID: a.AgentID}
	if a.Status == StatusDeleted {
		p.Asset, p.Deleted = nil, true
	}
	if a.SpanID != "" {
		sp, err := s.Store.GetSpan(ctx, a.WorkspaceID, a.SpanID)
		switch {
		case err == nil:
			p.Span = sp
		case !IsNotFound(err):
			return nil, err
		}
	}
	return p, nil
}
