package mcp

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/httpapi"
)

// MaxJobWait bounds get_job's wait_seconds: the answer must come within API
// Gateway's 30 s, after the wait and one more read.
const MaxJobWait = 20 * time.Second

// jobPollInterval is how often get_job reads the job while it waits.
const jobPollInterval = time.Second

type (
	jobInput struct {
		JobID       string `json:"job_id"`
		WaitSeconds int    `json:"wait_seconds,omitempty"`
	}
	assetInput struct {
		AssetID string `json:"asset_id"`
	}
	signedURLInput struct {
		AssetID     string `json:"asset_id"`
		ExpiresIn   int    `json:"expires_in,omitempty"`
		Disposition string `json:"disposition,omitempty"`
	}
	// listAssetsInput and traceSummaryInput are the query parameters of GET
	// /api/v1/assets and /api/v1/traces/summary, parsed as those routes parse them.
	listAssetsInput struct {
		ExecutionID   string `json:"execution_id,omitempty"`
		AgentID       string `json:"agent_id,omitempty"`
		Type          string `json:"type,omitempty"`
		Provider      string `json:"provider,omitempty"`
		CreatedAfter  string `json:"created_after,omitempty"`
		CreatedBefore string `json:"created_before,omitempty"`
		Limit         int    `json:"limit,omitempty"`
		Cursor        string `json:"cursor,omitempty"`
	}
	traceSummaryInput struct {
		ExecutionID string `json:"execution_id,omitempty"`
		TraceID     string `json:"trace_id,omitempty"`
		Kind        string `json:"kind,omitempty"`
		DateFrom    string `json:"date_from,omitempty"`
		DateTo      string `json:"date_to,omitempty"`
	}
)

// argDescriptions describe the arguments of the asset, job and trace tools.
var argDescriptions = map[string]string{
	"job_id":         "Id of a video job (from video_gen or video_from_image).",
	"wait_seconds":   "Wait up to this many seconds (0-20) for the job to end before answering; 0 answers at once.",
	"asset_id":       "Id of an asset of this workspace.",
	"expires_in":     "Lifetime of the URL in seconds (1-604800, default 900).",
	"disposition":    "attachment (default) or inline.",
	"execution_id":   "Only this agent execution's.",
	"agent_id":       "Only this agent's.",
	"trace_id":       "Only this trace's.",
	"type":           "Only this asset type: image, audio, video, text or file.",
	"kind":           "Only this span kind: speech, image or video.",
	"provider":       "Only this provider's.",
	"created_after":  "Only assets created after this RFC 3339 time.",
	"created_before": "Only assets created before this RFC 3339 time.",
	"date_from":      "Only spans from this RFC 3339 time or date.",
	"date_to":        "Only spans up to this RFC 3339 time or date (a date means the whole day).",
	"limit":          "Page size (1-100, default 20).",
	"cursor":         "next_cursor of the previous page.",
}

func assetTools() []Tool {
	jobSchema := schemaFor[jobInput](argDescriptions)
	jobSchema.Properties["wait_seconds"].Minimum = new(0.0)
	jobSchema.Properties["wait_seconds"].Maximum = new(MaxJobWait.Seconds())
	readOnly := &sdk.ToolAnnotations{ReadOnlyHint: true}
	return []Tool{
		newTool(&sdk.Tool{Name: "get_job", Description: "A video job's status; once completed, its asset and a signed URL. " +
			"With wait_seconds, waits for the job to end (sending progress when asked).", InputSchema: jobSchema, Annotations: readOnly}, getJob),
		newTool(&sdk.Tool{Name: "list_assets", Description: "Lists this workspace's assets, newest first, filtered by execution, agent, type, provider or time.",
			InputSchema: schemaFor[listAssetsInput](argDescriptions), Annotations: readOnly}, listAssets),
		newTool(&sdk.Tool{Name: "get_asset", Description: "One asset: type, content type, size, metadata, and the execution, agent and span that made it.",
			InputSchema: schemaFor[assetInput](argDescriptions), Annotations: readOnly}, getAsset),
		newTool(&sdk.Tool{Name: "get_signed_url", Description: "A time-limited download URL of a ready asset.",
			InputSchema: schemaFor[signedURLInput](argDescriptions), Annotations: readOnly}, signedURL),
		newTool(&sdk.Tool{Name: "delete_asset", Description: "Deletes an asset's file and record; the span that made it stays.",
			InputSchema: schemaFor[assetInput](argDescriptions), Annotations: &sdk.ToolAnnotations{DestructiveHint: new(true)}}, deleteAsset),
		newTool(&sdk.Tool{Name: "get_trace_summary", Description: "Totals of media calls (count, errors, cost, latency, media duration) overall, by provider and by media type.",
			InputSchema: schemaFor[traceSummaryInput](argDescriptions), Annotations: readOnly}, traceSummary),
	}
}

func getJob(ctx context.Context, s *Server, c *call, in jobInput) (*sdk.CallToolResult, error) {
	if s.Jobs == nil {
		return nil, mediatrail.Errorf(mediatrail.EUNAVAILABLE, "video jobs are not configured on this server")
	}
	until := time.Now().Add(time.Duration(in.WaitSeconds) * time.Second)
	for {
		v, err := s.Jobs.Get(ctx, c.WorkspaceID, in.JobID)
		if err != nil {
			return nil, err
		}
		if v.Status.Done() || !time.Now().Before(until) {
			return s.assetResult(ctx, v, v.Asset, v.AssetURL, "")
		}
		s.progress(ctx, c, v.Progress, fmt.Sprintf("job %s is %s", v.ID, v.Status))
		select {
		case <-ctx.Done():
			return s.assetResult(ctx, v, v.Asset, v.AssetURL, "")
		case <-time.After(min(jobPollInterval, time.Until(until))):
		}
	}
}

func listAssets(ctx context.Context, s *Server, c *call, in listAssetsInput) (*sdk.CallToolResult, error) {
	f, err := httpapi.AssetFilterOf(query(map[string]string{
		"execution_id": in.ExecutionID, "agent_id": in.AgentID, "type": in.Type, "provider": in.Provider,
		"created_after": in.CreatedAfter, "created_before": in.CreatedBefore, "cursor": in.Cursor, "limit": itoa(in.Limit),
	}))
	if err != nil {
		return nil, err
	}
	page, err := s.Assets.List(ctx, c.WorkspaceID, f)
	if err != nil {
		return nil, err
	}
	assets := page.Assets
	if assets == nil {
		assets = []*mediatrail.Asset{}
	}
	return structured(map[string]any{"assets": assets, "total": page.Total, "next_cursor": page.NextCursor}, "")
}

func getAsset(ctx context.Context, s *Server, c *call, in assetInput) (*sdk.CallToolResult, error) {
	a, err := s.Assets.Get(ctx, c.WorkspaceID, in.AssetID)
	if err != nil {
		return nil, err
	}
	return structured(map[string]any{"asset": a}, "")
}

func signedURL(ctx context.Context, s *Server, c *call, in signedURLInput) (*sdk.CallToolResult, error) {
	expires := time.Duration(in.ExpiresIn) * time.Second
	if in.ExpiresIn == 0 {
		expires = mediatrail.DefaultSignedURLExpiry
	}
	a, req, err := s.Assets.SignedAsset(ctx, c.WorkspaceID, in.AssetID, expires, mediatrail.Disposition(in.Disposition))
	if err != nil {
		return nil, err
	}
	size := a.FileSize
	res, err := structured(map[string]any{"asset_id": a.ID, "url": req.URL, "expires_at": req.ExpiresAt.UTC()}, "")
	if err == nil {
		res.Content = append(res.Content, &sdk.ResourceLink{URI: req.URL, Name: a.FileName, MIMEType: a.ContentType, Size: &size})
	}
	return res, err
}

func deleteAsset(ctx context.Context, s *Server, c *call, in assetInput) (*sdk.CallToolResult, error) {
	if err := s.Assets.Delete(ctx, c.WorkspaceID, in.AssetID); err != nil {
		return nil, err
	}
	return structured(map[string]any{"asset_id": in.AssetID, "deleted": true}, "")
}

func traceSummary(ctx context.Context, s *Server, c *call, in traceSummaryInput) (*sdk.CallToolResult, error) {
	f, err := httpapi.SpanFilterOf(query(map[string]string{
		"execution_id": in.ExecutionID, "trace_id": in.TraceID, "kind": in.Kind, "date_from": in.DateFrom, "date_to": in.DateTo,
	}))
	if err != nil {
		return nil, err
	}
	sum, err := s.Traces.Summary(ctx, c.WorkspaceID, f)
	if err != nil {
		return nil, err
	}
	return structured(sum, "")
}

// query turns arguments into the query values of the matching HTTP route;
// empty ones are absent.
func query(args map[string]string) url.Values {
	q := url.Values{}
	for k, v := range args {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q
}

func itoa(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}
