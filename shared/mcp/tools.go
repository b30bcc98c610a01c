package mcp

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"runtime/debug"
	"slices"
	"strings"
	"sync"

	"github.com/google/jsonschema-go/jsonschema"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// Tool is one MCP tool: what tools/list shows and how a call runs.
type Tool struct {
	Spec *sdk.Tool
	run  func(ctx context.Context, s *Server, c *call) (*sdk.CallToolResult, error)
}

// call is one tools/call: the caller, the caller's run with the call's _meta
// applied, and the request (arguments, progress token).
type call struct {
	Caller
	req *sdk.CallToolRequest
}

// handler runs t for caller c. Every failure is a tool result with isError
// and the HTTP API's stable code; protocol errors are left to the SDK
// (unknown tool, malformed JSON-RPC).
func (t Tool) handler(s *Server, c Caller) sdk.ToolHandler {
	return func(ctx context.Context, req *sdk.CallToolRequest) (res *sdk.CallToolResult, _ error) {
		cl := &call{Caller: c, req: req}
		cl.Run = c.Run.with(req.Params.GetMeta())
		defer func() {
			if p := recover(); p != nil {
				s.logger().Error("panic", "request_id", c.RequestID, "tool", t.Spec.Name, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				res = s.errorResult(cl, t.Spec.Name, errors.New("panic"))
			}
		}()
		res, err := t.run(ctx, s, cl)
		if err != nil {
			return s.errorResult(cl, t.Spec.Name, err), nil
		}
		return res, nil
	}
}

// newTool makes a tool whose arguments, validated against schema (generated
// from In), decode into In for run. A schema violation is validation_error
// naming the argument.
func newTool[In any](spec *sdk.Tool, run func(ctx context.Context, s *Server, c *call, in In) (*sdk.CallToolResult, error)) Tool {
	schema, ok := spec.InputSchema.(*jsonschema.Schema)
	if !ok {
		panic("mcp: tool " + spec.Name + " has no generated input schema")
	}
	resolved, err := schema.Resolve(nil)
	if err != nil {
		panic(fmt.Sprintf("mcp: tool %s: %v", spec.Name, err))
	}
	return Tool{Spec: spec, run: func(ctx context.Context, s *Server, c *call) (*sdk.CallToolResult, error) {
		var in In
		if err := decodeArguments(resolved, c.req.Params.Arguments, &in); err != nil {
			return nil, err
		}
		return run(ctx, s, c, in)
	}}
}

// decodeArguments validates raw (absent means {}) against the schema and
// decodes it into dst.
func decodeArguments(schema *jsonschema.Resolved, raw json.RawMessage, dst any) error {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		raw = json.RawMessage("{}")
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return mediatrail.Invalid("arguments", "arguments must be a JSON object")
	}
	if err := schema.Validate(v); err != nil {
		msg := strings.TrimPrefix(err.Error(), "validating root: ")
		return mediatrail.Invalid("arguments", "arguments do not match the tool's input schema: %s", msg)
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return mediatrail.Invalid("arguments", "arguments do not match the tool's input schema")
	}
	return nil
}

// schemaFor generates the input schema of In. Fields without omitempty are
// required; descriptions come from descs by property name.
func schemaFor[In any](descs map[string]string) *jsonschema.Schema {
	s, err := jsonschema.For[In](nil)
	if err != nil {
		panic(err)
	}
	for name, p := range s.Properties {
		if d, ok := descs[name]; ok {
			p.Description = d
		}
	}
	return s
}

// Builtins are the tools of a workspace: one per capability (tts, stt,
// image_gen, image_edit, video_gen, video_from_image), get_job, list_assets,
// get_asset, get_signed_url, delete_asset and get_trace_summary.
func Builtins() []Tool { return builtins() }

var builtins = sync.OnceValue(func() []Tool {
	var tools []Tool
	for _, c := range mediatrail.Capabilities {
		tools = append(tools, MediaTool(string(c), capabilityDescriptions[c], c, mediatrail.GenerateInput{}))
	}
	return append(tools, utilityTools()...)
})

// utilityTools are the built-ins that make no provider call (get_job, the
// asset tools, get_trace_summary), built once: every caller sees them.
var utilityTools = sync.OnceValue(assetTools)

// capabilityDescriptions describe the capability tools to the model.
var capabilityDescriptions = map[mediatrail.Capability]string{
	mediatrail.CapabilityTTS: "Text to speech: speaks the prompt (or the text of an input asset or URL) and stores the audio as an asset. " +
		"Answers the asset and a signed URL.",
	mediatrail.CapabilitySTT: "Speech to text: transcribes an audio input (input_asset_id or input_url) and stores the transcript as an asset. " +
		"Answers the transcript text, the asset and a signed URL.",
	mediatrail.CapabilityImageGen: "Generates an image from the prompt and stores it as an asset. Answers the asset, a signed URL and, for small images, the image itself.",
	mediatrail.CapabilityImageEdit: "Edits an input image (input_asset_id or input_url) as the prompt says and stores the result as an asset " +
		"(provider local: operations such as \"grayscale, rotate 90, resize 320x200\").",
	mediatrail.CapabilityVideoGen: "Starts a video job from the prompt. Answers a job_id at once: call get_job until the job is completed to get the video asset.",
	mediatrail.CapabilityVideoFromImage: "Starts a video job animating an input image (input_asset_id or input_url). Answers a job_id at once: " +
		"call get_job until the job is completed to get the video asset.",
}

// mediaArgDescriptions describe the arguments of the capability tools (the
// fields of GenerateInput they keep).
var mediaArgDescriptions = map[string]string{
	"provider": "Media provider: local (offline, free), openai, elevenlabs, deepgram, stability, fal, replicate, runway, luma, " +
		"as configured on this server.",
	"model":           "The provider's model; empty for its default.",
	"prompt":          "What to speak, draw, change or film.",
	"input_url":       "http(s) URL of the input (public addresses only), or asset://{id} (or a signed URL) of an asset of this workspace. Give it or input_asset_id.",
	"input_asset_id":  "Id of a ready asset of this workspace to use as the input.",
	"config":          "Provider options as the provider names them (voice, size, width, height, seed, format, duration, ...).",
	"idempotency_key": "Makes the call safe to repeat: a repeat within 24 hours answers the first result without a second charge.",
	"callback_url":    "URL that receives the job's result, signed, when it ends.",
	"retention_days":  "How long the output is kept: 0 (forever), 7, 30, 90 or 365; default the workspace's.",
}

// runFields are GenerateInput fields the caller's run sets (headers, _meta),
// never the model: they are not arguments.
var runFields = []string{"media_type", "execution_id", "agent_id", "trace_id", "parent_span_id", "session_id"}

// mediaSchema is the input schema of capability c, generated from the HTTP
// API's request type, without the fields c does not take.
func mediaSchema(c mediatrail.Capability, defaults mediatrail.GenerateInput) *jsonschema.Schema {
	s := schemaFor[mediatrail.GenerateInput](mediaArgDescriptions)
	drop := slices.Clone(runFields)
	if defaults.ToolID != "" {
		// A workspace media tool fixes its provider, model and credential.
		drop = append(drop, "tool_id", "provider", "model")
	}
	if !c.Async() {
		drop = append(drop, "callback_url")
	}
	if c == mediatrail.CapabilityImageGen || c == mediatrail.CapabilityVideoGen {
		drop = append(drop, "input_url", "input_asset_id")
	}
	for _, name := range drop {
		delete(s.Properties, name)
	}
	s.Required = nil
	if defaults.Provider == "" && defaults.ToolID == "" {
		s.Required = []string{"provider"}
	}
	return s
}

// MediaTool is a tool of capability c named name. Its arguments are a media
// call's over defaults: what the call leaves empty takes the default's, and
// config keys merge (the call's win). Builtins are MediaTool(c, ..., c, no
// defaults); an agent's attached tool is one with the agent's name and
// defaults. With a default provider, provider is no longer required; with a
// default ToolID (a workspace media tool) the call always names that tool and
// takes no provider, model or tool_id argument.
func MediaTool(name, description string, c mediatrail.Capability, defaults mediatrail.GenerateInput) Tool {
	spec := &sdk.Tool{Name: name, Description: description, InputSchema: mediaSchema(c, defaults)}
	return newTool(spec, func(ctx context.Context, s *Server, cl *call, in mediatrail.GenerateInput) (*sdk.CallToolResult, error) {
		in = withDefaults(in, defaults)
		in.ExecutionID, in.AgentID, in.TraceID, in.ParentSpanID = cl.Run.ExecutionID, cl.Run.AgentID, cl.Run.TraceID, cl.Run.ParentSpanID
		in.SessionID = cl.Run.SessionID
		return s.generate(ctx, cl, c, in)
	})
}

// withDefaults fills what in leaves empty from d.
func withDefaults(in, d mediatrail.GenerateInput) mediatrail.GenerateInput {
	if d.ToolID != "" {
		in.ToolID = d.ToolID
	}
	in.Provider = cmp.Or(in.Provider, d.Provider)
	in.Model = cmp.Or(in.Model, d.Model)
	in.Prompt = cmp.Or(in.Prompt, d.Prompt)
	in.CallbackURL = cmp.Or(in.CallbackURL, d.CallbackURL)
	if in.RetentionDays == nil {
		in.RetentionDays = d.RetentionDays
	}
	if len(d.Config) > 0 {
		cfg := maps.Clone(d.Config)
		maps.Copy(cfg, in.Config)
		in.Config = cfg
	}
	return in
}
