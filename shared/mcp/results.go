package mcp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// MaxInlineImageBytes bounds the images a result carries inline besides
// their link: larger ones are only linked.
const MaxInlineImageBytes = 512 << 10

// mediaResult is the structured content of a media call and of a finished
// job: the HTTP API's names (asset_url is a signed URL of our copy, fresh on
// every answer and short-lived).
type mediaResult struct {
	Status     string            `json:"status"`
	JobID      string            `json:"job_id,omitempty"`
	AssetID    string            `json:"asset_id,omitempty"`
	Asset      *mediatrail.Asset `json:"asset,omitempty"`
	AssetURL   string            `json:"asset_url,omitempty"`
	TextOutput string            `json:"text_output,omitempty"`
	SpanID     string            `json:"span_id,omitempty"`
	Cost       float64           `json:"cost"`
}

// generate runs a media call. A synchronous one answers its asset; a video
// answers its job (status processing), unless an idempotent repeat finds it
// done.
func (s *Server) generate(ctx context.Context, c *call, capability mediatrail.Capability, in mediatrail.GenerateInput) (*sdk.CallToolResult, error) {
	s.progress(ctx, c, 0, fmt.Sprintf("%s: calling %s", capability, in.Provider))
	out, err := s.Media.Generate(ctx, c.WorkspaceID, capability, in)
	if err != nil {
		return nil, err
	}
	r := mediaResult{Status: out.Status, JobID: out.JobID, AssetID: out.AssetID, AssetURL: out.AssetURL,
		TextOutput: out.TextOutput, SpanID: out.SpanID, Cost: out.Cost}
	if r.AssetID == "" {
		return structured(r, fmt.Sprintf("Video job %s is %s: call get_job with this job_id until it is completed.", r.JobID, r.Status))
	}
	s.progress(ctx, c, 1, fmt.Sprintf("%s: stored asset %s", capability, r.AssetID))
	switch a, err := s.Assets.Get(ctx, c.WorkspaceID, r.AssetID); {
	case mediatrail.IsNotFound(err): // an idempotent repeat of a call whose asset was deleted since
	case err != nil:
		return nil, err
	default:
		r.Asset = a
	}
	return s.assetResult(ctx, r, r.Asset, r.AssetURL, r.TextOutput)
}

// assetResult answers v with links to asset a: a resource_link to url, the
// image itself when it is small, and text first when there is a transcript.
func (s *Server) assetResult(ctx context.Context, v any, a *mediatrail.Asset, url, text string) (*sdk.CallToolResult, error) {
	res, err := structured(v, "")
	if err != nil {
		return nil, err
	}
	if text != "" {
		res.Content = append([]sdk.Content{&sdk.TextContent{Text: text}}, res.Content...)
	}
	if a == nil || url == "" {
		return res, nil
	}
	size := a.FileSize
	res.Content = append(res.Content, &sdk.ResourceLink{URI: url, Name: a.FileName, Title: string(a.Type) + " " + a.ID,
		MIMEType: a.ContentType, Size: &size})
	if a.Type == mediatrail.AssetImage && a.FileSize <= MaxInlineImageBytes {
		img, err := s.readBlob(ctx, a)
		if err != nil {
			return nil, err
		}
		res.Content = append(res.Content, &sdk.ImageContent{Data: img, MIMEType: a.ContentType})
	}
	return res, nil
}

// readBlob reads a small asset's bytes.
func (s *Server) readBlob(ctx context.Context, a *mediatrail.Asset) ([]byte, error) {
	rc, err := s.Assets.Blobs.Open(ctx, a.StorageKey)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(io.LimitReader(rc, MaxInlineImageBytes+1))
}

// structured answers v as structuredContent and, for clients that read only
// content, as its JSON text (after summary, when given).
func structured(v any, summary string) (*sdk.CallToolResult, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode tool result: %w", err)
	}
	res := &sdk.CallToolResult{StructuredContent: json.RawMessage(b)}
	if summary != "" {
		res.Content = append(res.Content, &sdk.TextContent{Text: summary})
	}
	res.Content = append(res.Content, &sdk.TextContent{Text: string(b)})
	return res, nil
}

// errorResult is a failed call as the model sees it: isError, the HTTP API's
// error envelope as structured content, and "code: message" as text. Only
// *mediatrail.Error messages reach the caller; anything else is logged and
// answered as internal.
func (s *Server) errorResult(c *call, tool string, err error) *sdk.CallToolResult {
	code, msg := mediatrail.ErrorCode(err), mediatrail.ErrorMessage(err)
	if code == mediatrail.EINTERNAL {
		s.logger().Error("tool failed", "request_id", c.RequestID, "workspace", c.WorkspaceID, "tool", tool, "err", err)
	}
	details := map[string]any{"request_id": c.RequestID}
	var e *mediatrail.Error
	if errors.As(err, &e) {
		for k, v := range e.Details {
			details[k] = v
		}
		if e.RetryAfterSeconds > 0 {
			details["retry_after_seconds"] = e.RetryAfterSeconds
		}
	}
	body := map[string]any{"error": map[string]any{"code": code, "message": msg, "details": details}}
	b, _ := json.Marshal(body)
	return &sdk.CallToolResult{IsError: true, StructuredContent: json.RawMessage(b),
		Content: []sdk.Content{&sdk.TextContent{Text: code + ": " + strings.TrimSpace(msg)}}}
}

// progress sends a progress notification when the client asked for them
// (a progress token in _meta). Failing to send one fails nothing.
func (s *Server) progress(ctx context.Context, c *call, done float64, msg string) {
	token := c.req.Params.GetProgressToken()
	if token == nil || c.req.Session == nil {
		return
	}
	if err := c.req.Session.NotifyProgress(ctx, &sdk.ProgressNotificationParams{
		ProgressToken: token, Progress: done, Total: 1, Message: msg,
	}); err != nil {
		s.logger().Warn("progress notification", "request_id", c.RequestID, "err", err)
	}
}
