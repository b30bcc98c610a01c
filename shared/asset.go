package mediatrail

import (
	"encoding/json"
	"mime"
	"path"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// AssetType is the kind of media an asset holds.
type AssetType string

const (
	AssetImage AssetType = "image"
	AssetAudio AssetType = "audio"
	AssetVideo AssetType = "video"
	AssetText  AssetType = "text"
	AssetFile  AssetType = "file"
)

// AssetTypes lists every asset type, in a stable order.
var AssetTypes = []AssetType{AssetImage, AssetAudio, AssetVideo, AssetText, AssetFile}

// ParseAssetType returns the type named s, or the type of the assets a
// media_type (a capability or one of its aliases, see ParseCapability) makes:
// tts, audio and speech are audio, stt and transcription text. EINVALID for
// anything else.
func ParseAssetType(s string) (AssetType, error) {
	for _, t := range AssetTypes {
		if string(t) == s {
			return t, nil
		}
	}
	if c, err := ParseCapability(s); err == nil {
		return c.AssetType(), nil
	}
	return "", Invalid("type", "type must be one of image, audio, video, text, file (or a media_type such as tts or transcription)")
}

// ParseAssetTypes reads a filter's type and media_type, which may name the
// same type in different words but must not disagree; zero when both are "".
func ParseAssetTypes(typ, mediaType string) (AssetType, error) {
	var out AssetType
	for _, s := range []string{typ, mediaType} {
		if s == "" {
			continue
		}
		t, err := ParseAssetType(s)
		switch {
		case err != nil:
			return "", err
		case out != "" && t != out:
			return "", Invalid("type", "type and media_type disagree")
		}
		out = t
	}
	return out, nil
}

// AssetTypeFor derives the asset type from a MIME content type.
func AssetTypeFor(contentType string) AssetType {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return AssetFile
	}
	switch major, _, _ := strings.Cut(mt, "/"); {
	case major == "image":
		return AssetImage
	case major == "audio":
		return AssetAudio
	case major == "video":
		return AssetVideo
	case major == "text", mt == "application/json", mt == "application/x-subrip":
		return AssetText
	}
	return AssetFile
}

// AssetStatus is where an asset is in its life.
//
//	pending  registered, upload not yet verified (not listed, no signed URL)
//	ready    blob verified and downloadable
//	deleted  tombstone: the blob is being removed; answered as not found
type AssetStatus string

const (
	StatusPending AssetStatus = "pending"
	StatusReady   AssetStatus = "ready"
	StatusDeleted AssetStatus = "deleted"
)

// Asset is one generated or uploaded file: a blob in object storage described by
// a record that ties it to the workspace, agent, execution and span that made it.
type Asset struct {
	ID          string         `json:"id"`
	WorkspaceID string         `json:"workspace_id"`
	ExecutionID string         `json:"execution_id"`
	AgentID     string         `json:"agent_id"`
	SpanID      string         `json:"span_id"`
	Type        AssetType      `json:"type"`
	Provider    string         `json:"provider"`
	Model       string         `json:"model"`
	FileName    string         `json:"file_name"`
	FileSize    int64          `json:"file_size"`
	ContentType string         `json:"content_type"`
	StorageKey  string         `json:"storage_key"`
	SHA256      string         `json:"sha256"`
	Metadata    map[string]any `json:"metadata"`
	Status      AssetStatus    `json:"status"`
	CreatedAt   time.Time      `json:"created_at"`
	UpdatedAt   time.Time      `json:"updated_at"`
	// RetentionDays is how long the blob is kept (one of RetentionClasses;
	// 0 keeps it forever). JSON adds expires_at (see RetentionExpiresAt).
	RetentionDays int `json:"retention_days"`
	// UploadExpiresAt is when a pending upload may be reclaimed by cleanup.
	UploadExpiresAt time.Time `json:"-"`
	// Deduplicated says that the asset's bytes were already stored in the
	// workspace and it uses that blob (StorageKey names another asset's key);
	// see BlobSharing.
	Deduplicated bool `json:"deduplicated"`
}

// ExpiresAt is the earliest time the bucket's lifecycle may remove the blob;
// zero when it is kept forever.
func (a *Asset) ExpiresAt() time.Time { return RetentionExpiresAt(a.CreatedAt, a.RetentionDays) }

// MarshalJSON adds the SDK's aliases (media_type = type, size = file_size) and
// expires_at (null when kept forever), writes times in RFC 3339 UTC and never
// writes a null metadata.
func (a Asset) MarshalJSON() ([]byte, error) {
	type plain Asset
	md := a.Metadata
	if md == nil {
		md = map[string]any{}
	}
	p := plain(a)
	p.Metadata = md
	p.CreatedAt = a.CreatedAt.UTC()
	p.UpdatedAt = a.UpdatedAt.UTC()
	var expires *time.Time
	if t := a.ExpiresAt(); !t.IsZero() {
		expires = &t
	}
	return json.Marshal(struct {
		plain
		MediaType AssetType  `json:"media_type"`
		Size      int64      `json:"size"`
		ExpiresAt *time.Time `json:"expires_at"`
	}{p, a.Type, a.FileSize, expires})
}

// StorageKeyFor is the object key of an asset's blob. Its shape
// (workspaces/{ws}/assets/{id}/{file}) lets an S3 event find the record with one read.
func StorageKeyFor(workspaceID, assetID, fileName string) string {
	return "workspaces/" + workspaceID + "/assets/" + assetID + "/" + SafeFileName(fileName)
}

// ParseStorageKey is the inverse of StorageKeyFor; ok is false for keys this
// system does not own.
func ParseStorageKey(key string) (workspaceID, assetID string, ok bool) {
	parts := strings.Split(key, "/")
	if len(parts) != 5 || parts[0] != "workspaces" || parts[2] != "assets" {
		return "", "", false
	}
	if !ValidRef(parts[1]) || !ValidID(parts[3]) || parts[4] == "" {
		return "", "", false
	}
	return parts[1], parts[3], true
}

// MaxFileNameBytes bounds file names (S3 keys are limited to 1024 bytes).
const MaxFileNameBytes = 255

// ValidateFileName accepts a plain file name: no path separators, no "." or ".."
// names, no control or bidirectional control characters, valid UTF-8, at
// most MaxFileNameBytes bytes.
func ValidateFileName(name string) error {
	switch {
	case name == "":
		return Invalid("file_name", "file_name is required")
	case len(name) > MaxFileNameBytes:
		return Invalid("file_name", "file_name must be at most %d bytes", MaxFileNameBytes)
	case !utf8.ValidString(name):
		return Invalid("file_name", "file_name must be valid UTF-8")
	case strings.ContainsAny(name, `/\`), name == ".", name == "..", strings.Contains(name, ".."):
		return Invalid("file_name", "file_name must be a plain file name without path components")
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return Invalid("file_name", "file_name must not contain control characters")
		}
		// Bidirectional controls (U+202A-U+202E, U+2066-U+2069, marks) make
		// "invoice\u202Etxt.exe" display as "invoiceexe.txt".
		if unicode.Is(unicode.Bidi_Control, r) {
			return Invalid("file_name", "file_name must not contain bidirectional control characters")
		}
	}
	return nil
}

// SafeFileName maps a name onto [A-Za-z0-9._-] for use in object keys and
// Content-Disposition fallbacks. It never returns "", "." or "..".
func SafeFileName(name string) string {
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	var b strings.Builder
	for _, r := range name {
		switch {
		case r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '.' || r == '-' || r == '_'):
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	s := strings.TrimLeft(b.String(), ".")
	if s == "" {
		s = "file"
	}
	if len(s) > 200 {
		ext := path.Ext(s)
		if len(ext) > 20 {
			ext = ""
		}
		s = s[:200-len(ext)] + ext
	}
	return s
}

// ValidateContentType accepts a well-formed MIME type and returns it normalised.
func ValidateContentType(ct string) (string, error) {
	if ct == "" {
		return "", Invalid("content_type", "content_type is required")
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || !strings.Contains(mt, "/") || len(ct) > 255 {
		return "", Invalid("content_type", "content_type must be a valid MIME type such as image/png")
	}
	return mime.FormatMediaType(mt, params), nil
}

// ValidateSHA256 accepts 64 lower- or upper-case hex characters and returns them lower-cased.
func ValidateSHA256(s string) (string, error) {
	if len(s) != 64 {
		return "", Invalid("sha256", "sha256 must be 64 hex characters")
	}
	s = strings.ToLower(s)
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return "", Invalid("sha256", "sha256 must be 64 hex characters")
		}
	}
	return s, nil
}

// MaxMetadataBytes bounds an asset's metadata as JSON (a DynamoDB item holds 400 KB).
const MaxMetadataBytes = 32 << 10

// ValidateMetadata checks metadata size and nesting (MaxJSONDepth); nil is allowed.
func ValidateMetadata(md map[string]any) error {
	if md == nil {
		return nil
	}
	b, err := json.Marshal(md)
	if err != nil {
		return Invalid("metadata", "metadata must be a JSON object")
	}
	if len(b) > MaxMetadataBytes {
		return TooLarge("metadata", "metadata must be at most 32 KiB")
	}
	return validateDepth("metadata", md)
}

// AssetFilter selects assets of one workspace. Zero fields do not filter.
type AssetFilter struct {
	Type          AssetType
	Provider      string
	ExecutionID   string
	AgentID       string
	CreatedAfter  time.Time // exclusive
	CreatedBefore time.Time // exclusive
	Status        AssetStatus

	// Paging: Cursor (from a previous page) or Page (1-based); Limit per page.
	Limit  int
	Page   int
	Cursor string
}

// Paging defaults and bounds (api.md).
const (
	DefaultLimit = 20
	MaxLimit     = 100
)

// AssetPage is one page of a listing, newest first.
type AssetPage struct {
	Assets     []*Asset
	Total      int
	Page       int
	Limit      int
	NextCursor string
}
