package mediatrail

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/url"
	"strings"

	"github.com/mediatrail/mediatrail/shared/probe"
	"github.com/mediatrail/mediatrail/shared/provenance"
)

// store streams the result into storage under a new asset id, sniffing its
// type and probing its dimensions on the way, and prepares the asset, the span
// and the answer. The provider's URL goes nowhere but the download.
func (m *mediaCall) store(ctx context.Context, req MediaRequest, res *MediaResult) error {
	now := m.now()
	id, created := m.assetID, now
	if id == "" {
		id = NewIDAt(now)
	} else {
		created = IDTime(id) // the asset sorts by its id's time
	}
	body, declared, err := m.output(ctx, res)
	if err != nil {
		return err
	}
	defer body.Close()
	out := &outputReader{r: body, left: cmp.Or(m.maxBytes, DefaultMaxOutputBytes), provider: m.provider.Name()}
	head := make([]byte, probe.HeadBytes)
	n, err := io.ReadFull(out, head)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return err
	}
	head = head[:n]
	if n == 0 {
		return &ProviderError{Provider: m.provider.Name(), Status: 200, Code: ProviderMalformed, RequestID: res.RequestID, Message: "the answer is empty"}
	}
	sniffed, _ := probe.Inspect(bytes.NewReader(head), int64(n))
	ct, ext := sniffed.ContentType, sniffed.Extension
	if m.capability == CapabilitySTT {
		ct, ext = declared, extensionOf(declared)
	} else if major, _, _ := strings.Cut(ct, "/"); major != wantMajor(m.capability) {
		return &ProviderError{Provider: m.provider.Name(), Status: 200, Code: ProviderMalformed, RequestID: res.RequestID,
			Message: fmt.Sprintf("the answer is %s, not %s", ct, wantMajor(m.capability))}
	}
	fileName := outputNames[m.capability] + ext
	key := StorageKeyFor(m.ws, id, fileName)
	if m.beforePut != nil {
		if err := m.beforePut(ctx, key); err != nil {
			return err
		}
	}
	// Provenance is written into the stream itself, so the recorded size and
	// sha256 are those of the stored bytes; a workspace that opted out stores
	// the provider's bytes as they came.
	stream := io.MultiReader(bytes.NewReader(head), out)
	if embed, err := m.settings.EmbedProvenance(ctx, m.ws); err != nil {
		return err
	} else if embed {
		if stream, err = provenance.Embed(stream, ct, provenance.Record{
			AssetID: id, WorkspaceID: m.ws, Provider: m.provider.Name(), Model: m.span.Model,
			SpanID: m.span.ID, ExecutionID: m.in.ExecutionID,
		}); err != nil {
			return cmp.Or(out.err, err)
		}
	}
	blob, err := m.blobs.Put(ctx, key, ct, stream, -1, RetentionTag(m.retention))
	if err != nil {
		if out.err != nil {
			return out.err // the provider's stream broke or overflowed; the store left nothing
		}
		return err
	}
	// What the head does not tell (a moov box at the end) is read back in ranges.
	info, _ := probe.Inspect(&blobReader{ctx: ctx, blobs: m.blobs, key: key, head: head}, blob.Size)

	width, height := cmp.Or(info.Width, res.Width), cmp.Or(info.Height, res.Height)
	seconds := cmp.Or(info.DurationSeconds, res.DurationSeconds)
	md := scrubbed(res.Metadata)
	md["provider"], md["media_type"] = m.provider.Name(), string(m.capability)
	for k, v := range map[string]string{"prompt": req.Prompt, "model": m.span.Model, "provider_request_id": res.RequestID,
		"tool_id": m.span.ToolID, "credential_id": m.span.CredentialID, "input_asset_id": m.in.InputAssetID} {
		if v != "" {
			md[k] = v
		}
	}
	if width > 0 && height > 0 {
		md["width"], md["height"] = width, height
	}
	if seconds > 0 {
		md["duration_seconds"] = seconds
	}
	cost := m.prices.Estimate(m.billable(req, res, md, width, height, seconds))
	md["cost"] = cost.Amount

	m.asset = &Asset{
		ID: id, WorkspaceID: m.ws, ExecutionID: m.in.ExecutionID, AgentID: m.in.AgentID, SpanID: m.span.ID,
		Type: AssetTypeFor(ct), Provider: m.provider.Name(), Model: m.span.Model, FileName: fileName,
		FileSize: blob.Size, ContentType: ct, StorageKey: key, SHA256: blob.SHA256, Metadata: md,
		Status: StatusReady, CreatedAt: created, UpdatedAt: now, RetentionDays: m.retention,
	}
	sp := m.span
	sp.AssetID, sp.AssetURL, sp.ContentType = id, "/api/v1/assets/"+id, ct
	sp.OutputURL = sp.AssetURL + "/signed-url"
	sp.MediaDurationSeconds, sp.Cost = seconds, cost
	if !cost.Priced {
		sp.Attributes["warning"] = "no price for this provider and model: counted as 0 against the workspace budget"
	}
	if res.Usage.Unit != "" {
		sp.Attributes["usage"] = res.Usage
	}
	m.out = &GenerateOutput{
		Status: "completed", AssetID: id, TextOutput: res.Text, ContentType: ct, Metadata: md,
		SpanID: sp.ID, Cost: cost.Amount,
	}
	return nil
}

// outputNames are the file names of outputs, before the extension.
var outputNames = map[Capability]string{
	CapabilityTTS: "speech", CapabilitySTT: "transcript", CapabilityImageGen: "image", CapabilityImageEdit: "image-edit",
	CapabilityVideoGen: "video", CapabilityVideoFromImage: "video",
}

// output opens the result's media: the transcript document, the streamed body,
// or a download of the provider's URL. declared is the provider's content type.
func (m *mediaCall) output(ctx context.Context, res *MediaResult) (body io.ReadCloser, declared string, err error) {
	switch {
	case m.capability == CapabilitySTT:
		doc, ct := transcriptDocument(res)
		return io.NopCloser(bytes.NewReader(doc)), ct, nil
	case res.Body != nil:
		return res.Body, res.ContentType, nil
	case res.URL != "":
		d, err := m.outputs.Download(ctx, res.URL)
		if err != nil {
			if ErrorCode(err) == ETIMEOUT || errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil, "", &ProviderError{Provider: m.provider.Name(), Code: ProviderTimeout, Message: "the output download did not finish in time", RequestID: res.RequestID, Err: err}
			}
			return nil, "", &ProviderError{Provider: m.provider.Name(), Code: ProviderUnreachable, Message: "the output could not be downloaded", RequestID: res.RequestID, Err: err}
		}
		return d.Body, cmp.Or(res.ContentType, d.ContentType), nil
	}
	return nil, "", &ProviderError{Provider: m.provider.Name(), Status: 200, Code: ProviderMalformed, Message: "the answer holds no media", RequestID: res.RequestID}
}

// transcriptDocument is what an stt asset holds: JSON with the text and, when
// the provider gave them, word and segment times; or the provider's own
// subtitle format (srt, vtt) when one was asked for.
func transcriptDocument(res *MediaResult) ([]byte, string) {
	if mt, _, _ := mime.ParseMediaType(res.ContentType); mt != "" && mt != "text/plain" && mt != "application/json" {
		return []byte(res.Text), res.ContentType
	}
	doc, _ := json.Marshal(struct {
		Text            string    `json:"text"`
		DurationSeconds float64   `json:"duration_seconds,omitempty"`
		Words           []Word    `json:"words,omitempty"`
		Segments        []Segment `json:"segments,omitempty"`
	}{res.Text, res.DurationSeconds, res.Words, res.Segments})
	return doc, "application/json"
}

func extensionOf(ct string) string {
	switch mt, _, _ := mime.ParseMediaType(ct); mt {
	case "application/json":
		return ".json"
	case "application/x-subrip":
		return ".srt"
	case "text/vtt":
		return ".vtt"
	}
	return ".txt"
}

// wantMajor is the major MIME type a capability's output must have.
func wantMajor(c Capability) string {
	switch c.AssetType() {
	case AssetAudio:
		return "audio"
	case AssetVideo:
		return "video"
	}
	return "image"
}

// scrubbed copies provider metadata without any URL (provider URLs are
// short-lived and never leave this service) and without values nested too
// deep to store.
func scrubbed(md map[string]any) map[string]any {
	out := make(map[string]any, len(md)+8)
	for k, v := range md {
		if s, ok := v.(string); ok && (strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")) {
			continue
		}
		if jsonDepth(v, MaxJSONDepth) >= MaxJSONDepth {
			continue // too deep to store under the asset's metadata
		}
		out[k] = v
	}
	return out
}

// withoutQuery drops the query and fragment of a URL, which may carry tokens.
func withoutQuery(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || raw == "" {
		return ""
	}
	u.RawQuery, u.Fragment, u.User = "", "", nil
	return u.String()
}

// outputReader caps an output and keeps the first read error, so that a broken
// provider stream is reported as the provider's failure however the object
// store wraps it.
type outputReader struct {
	r        io.Reader
	left     int64
	provider string
	err      error
}

func (o *outputReader) Read(p []byte) (int, error) {
	if o.err != nil {
		return 0, o.err
	}
	if int64(len(p)) > o.left+1 {
		p = p[:o.left+1]
	}
	n, err := o.r.Read(p)
	o.left -= int64(n)
	switch {
	case o.left < 0 || ErrorCode(err) == ETOOLARGE:
		o.err = &ProviderError{Provider: o.provider, Status: 200, Code: ProviderMalformed, Message: "the output exceeds the size limit"}
		return 0, o.err
	case err != nil && err != io.EOF:
		var pe *ProviderError
		if !errors.As(err, &pe) {
			err = &ProviderError{Provider: o.provider, Status: 200, Code: ProviderTruncated, Message: "the answer broke off", Err: err}
		}
		o.err = err
	}
	return n, err
}

// signedURL signs a fresh URL of asset a's object in blobs, for an answer:
// a media call's, its replay's, a job view's.
func signedURL(ctx context.Context, blobs BlobStore, a *Asset) (string, error) {
	req, err := blobs.PresignGet(ctx, a.StorageKey, GetOptions{
		Expires: DefaultSignedURLExpiry, Disposition: DispositionInline, FileName: a.FileName, ContentType: a.ContentType,
	})
	return req.URL, err
}
