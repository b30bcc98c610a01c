package dynamo

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// Asset attribute names.
const (
	attrID              = "id"
	attrWorkspaceID     = "workspace_id"
	attrExecutionID     = "execution_id"
	attrAgentID         = "agent_id"
	attrSpanID          = "span_id"
	attrType            = "type"
	attrProvider        = "provider"
	attrModel           = "model"
	attrFileName        = "file_name"
	attrFileSize        = "file_size"
	attrContentType     = "content_type"
	attrStorageKey      = "storage_key"
	attrSHA256          = "sha256"
	attrMetadata        = "metadata"
	attrStatus          = "status"
	attrCreatedAt       = "created_at"
	attrUpdatedAt       = "updated_at"
	attrUploadExpiresAt = "upload_expires_at"
	attrRetentionDays   = "retention_days"
	attrCount           = "n"
)

// Sort key prefixes and fixed sort keys.
const (
	assetPrefix = "ASSET#"
	countAll    = "COUNT#ALL"
	keySK       = "KEY"
)

// timeLayout is RFC 3339 with a fixed nine-digit fraction, always written in UTC,
// so that string order is time order and created_at can be compared in filters.
// time.RFC3339Nano parses it.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func wsPK(ws string) string       { return "WS#" + ws }
func assetSK(id string) string    { return assetPrefix + id }
func keyPK(hash string) string    { return "KEY#" + hash }
func shaPK(ws, sha string) string { return wsPK(ws) + "#SHA#" + sha }
func idFromSK(sk string) string   { return sk[strings.LastIndexByte(sk, '#')+1:] }

// dimension is an equality filter backed by a sparse GSI and a counter.
type dimension struct {
	index string // GSI holding assets by this dimension
	tag   string // key segment: WS#{ws}#{tag}#{value}, COUNT#{tag}#{value}
	attr  string // asset attribute
}

// dimensions are in GSI order; ties in index selection go to the earlier one.
var dimensions = []dimension{
	{GSI1, "EXEC", attrExecutionID},
	{GSI2, "AGENT", attrAgentID},
	{GSI3, "TYPE", attrType},
	{GSI4, "PROV", attrProvider},
}

func (d dimension) ofAsset(a *mediatrail.Asset) string {
	switch d.attr {
	case attrExecutionID:
		return a.ExecutionID
	case attrAgentID:
		return a.AgentID
	case attrType:
		return string(a.Type)
	default:
		return a.Provider
	}
}

func (d dimension) ofFilter(f mediatrail.AssetFilter) string {
	switch d.attr {
	case attrExecutionID:
		return f.ExecutionID
	case attrAgentID:
		return f.AgentID
	case attrType:
		return string(f.Type)
	default:
		return f.Provider
	}
}

func (d dimension) indexPK(ws, value string) string { return wsPK(ws) + "#" + d.tag + "#" + value }
func (d dimension) counterSK(value string) string   { return "COUNT#" + d.tag + "#" + value }
func str(s string) *types.AttributeValueMemberS     { return &types.AttributeValueMemberS{Value: s} }
func num(n int64) *types.AttributeValueMemberN {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}
func assetKey(ws, id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: str(wsPK(ws)), attrSK: str(assetSK(id))}
}

// counterSKs lists the counters an asset belongs to: COUNT#ALL and one per
// non-empty dimension.
func counterSKs(a *mediatrail.Asset) []string {
	sks := []string{countAll}
	for _, d := range dimensions {
		if v := d.ofAsset(a); v != "" {
			sks = append(sks, d.counterSK(v))
		}
	}
	return sks
}

// marshalAsset returns the item of a, with GSI keys only for non-empty dimensions.
func marshalAsset(a *mediatrail.Asset) (map[string]types.AttributeValue, error) {
	item := assetKey(a.WorkspaceID, a.ID)
	for _, d := range dimensions {
		if v := d.ofAsset(a); v != "" {
			item[gsiPK(d.index)] = str(d.indexPK(a.WorkspaceID, v))
			item[gsiSK(d.index)] = str(assetSK(a.ID))
		}
	}
	if a.SHA256 != "" {
		item[gsiPK(GSI10)] = str(shaPK(a.WorkspaceID, a.SHA256))
		item[gsiSK(GSI10)] = str(assetSK(a.ID))
	}
	for name, v := range map[string]string{
		attrID:          a.ID,
		attrWorkspaceID: a.WorkspaceID,
		attrExecutionID: a.ExecutionID,
		attrAgentID:     a.AgentID,
		attrSpanID:      a.SpanID,
		attrType:        string(a.Type),
		attrProvider:    a.Provider,
		attrModel:       a.Model,
		attrFileName:    a.FileName,
		attrContentType: a.ContentType,
		attrStorageKey:  a.StorageKey,
		attrSHA256:      a.SHA256,
		attrStatus:      string(a.Status),
		attrCreatedAt:   formatTime(a.CreatedAt),
		attrUpdatedAt:   formatTime(a.UpdatedAt),
	} {
		item[name] = str(v)
	}
	item[attrFileSize] = num(a.FileSize)
	item[attrRetentionDays] = num(int64(a.RetentionDays))
	if !a.UploadExpiresAt.IsZero() {
		item[attrUploadExpiresAt] = str(formatTime(a.UploadExpiresAt))
	}
	if a.Deduplicated {
		item[attrDedup] = &types.AttributeValueMemberBOOL{Value: true}
	}
	if a.Metadata != nil {
		md, err := attributevalue.Marshal(a.Metadata)
		if err != nil {
			return nil, fmt.Errorf("dynamo: marshal metadata of asset %s: %w", a.ID, err)
		}
		item[attrMetadata] = md
	}
	return item, nil
}

// unmarshalAsset is the inverse of marshalAsset.
func unmarshalAsset(item map[string]types.AttributeValue) (*mediatrail.Asset, error) {
	r := itemReader{item: item}
	a := &mediatrail.Asset{
		ID:              r.str(attrID),
		WorkspaceID:     r.str(attrWorkspaceID),
		ExecutionID:     r.str(attrExecutionID),
		AgentID:         r.str(attrAgentID),
		SpanID:          r.str(attrSpanID),
		Type:            mediatrail.AssetType(r.str(attrType)),
		Provider:        r.str(attrProvider),
		Model:           r.str(attrModel),
		FileName:        r.str(attrFileName),
		FileSize:        r.int(attrFileSize),
		ContentType:     r.str(attrContentType),
		StorageKey:      r.str(attrStorageKey),
		SHA256:          r.str(attrSHA256),
		Status:          mediatrail.AssetStatus(r.str(attrStatus)),
		CreatedAt:       r.time(attrCreatedAt),
		UpdatedAt:       r.time(attrUpdatedAt),
		UploadExpiresAt: r.time(attrUploadExpiresAt),
		RetentionDays:   int(r.int(attrRetentionDays)),
		Deduplicated:    dedupAttr(item),
	}
	if md, ok := item[attrMetadata]; ok {
		if err := attributevalue.Unmarshal(md, &a.Metadata); err != nil && r.err == nil {
			r.err = fmt.Errorf("metadata: %w", err)
		}
	}
	if r.err != nil {
		return nil, fmt.Errorf("dynamo: decode asset %s: %w", a.ID, r.err)
	}
	return a, nil
}

// itemReader reads typed attributes and keeps the first error.
type itemReader struct {
	item map[string]types.AttributeValue
	err  error
}

func (r *itemReader) str(name string) string {
	switch v := r.item[name].(type) {
	case nil:
		return ""
	case *types.AttributeValueMemberS:
		return v.Value
	default:
		r.fail(name, "not a string")
		return ""
	}
}

func (r *itemReader) int(name string) int64 {
	switch v := r.item[name].(type) {
	case nil:
		return 0
	case *types.AttributeValueMemberN:
		n, err := strconv.ParseInt(v.Value, 10, 64)
		if err != nil {
			r.fail(name, "not an integer")
		}
		return n
	default:
		r.fail(name, "not a number")
		return 0
	}
}

func (r *itemReader) float(name string) float64 {
	switch v := r.item[name].(type) {
	case nil:
		return 0
	case *types.AttributeValueMemberN:
		f, err := strconv.ParseFloat(v.Value, 64)
		if err != nil {
			r.fail(name, "not a number")
		}
		return f
	default:
		r.fail(name, "not a number")
		return 0
	}
}

func (r *itemReader) time(name string) time.Time {
	s := r.str(name)
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		r.fail(name, "not an RFC 3339 time")
	}
	return t.UTC()
}

func (r *itemReader) fail(name, what string) {
	if r.err == nil {
		r.err = fmt.Errorf("attribute %s: %s", name, what)
	}
}
