package mediatrail_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// nested returns a JSON-shaped object nested depth levels deep.
func nested(depth int) map[string]any {
	v := map[string]any{"leaf": 1}
	for range depth - 1 {
		v = map[string]any{"a": v}
	}
	return v
}

// Caller JSON nested deeper than the store can hold, and URLs longer than any
// real one, are refused with 400 naming the field before any provider runs
// (stubProvider panics if called).
func TestSecurity_GenerateBoundsNestingAndURLs(t *testing.T) {
	svc := &mediatrail.MediaService{Providers: stubProvider{}}
	for _, tc := range []struct {
		name  string
		in    mediatrail.GenerateInput
		field string
	}{
		{"config 40 levels", mediatrail.GenerateInput{Provider: "stub", Prompt: "x", Config: nested(40)}, "config"},
		{"config 17 levels", mediatrail.GenerateInput{Provider: "stub", Prompt: "x", Config: nested(mediatrail.MaxJSONDepth + 1)}, "config"},
		{"600 KB input_url", mediatrail.GenerateInput{Provider: "stub", InputURL: "https://example.com/" + strings.Repeat("a", 600<<10)}, "input_url"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := svc.Generate(context.Background(), "ws", mediatrail.CapabilitySTT, tc.in)
			var e *mediatrail.Error
			if !errors.As(err, &e) || e.Code != mediatrail.EINVALID || e.Details["field"] != tc.field {
				t.Fatalf("Generate: %v, want EINVALID on %s", err, tc.field)
			}
		})
	}
}

func TestSecurity_MetadataNestingBounded(t *testing.T) {
	for _, tc := range []struct {
		depth int
		code  string
	}{{mediatrail.MaxJSONDepth, ""}, {mediatrail.MaxJSONDepth + 1, mediatrail.EINVALID}, {40, mediatrail.EINVALID}} {
		if got := mediatrail.ErrorCode(mediatrail.ValidateMetadata(nested(tc.depth))); got != tc.code {
			t.Errorf("depth %d: code %q, want %q", tc.depth, got, tc.code)
		}
	}
}

// failingProvider refuses every call, as a provider that ran and answered 400.
type failingProvider struct{ stubProvider }

func (failingProvider) Get(string) (mediatrail.Provider, error) { return failingProvider{}, nil }
func (failingProvider) Generate(context.Context, mediatrail.MediaRequest) (*mediatrail.MediaResult, error) {
	return nil, &mediatrail.ProviderError{Provider: "stub", Status: 400, Message: strings.Repeat("bad ", 1000)}
}

// spanStore refuses spans that are not truncated, as DynamoDB refuses an item
// it cannot hold, and keeps the ones it stores.
type spanStore struct {
	mediatrail.MediaStore
	stored []*mediatrail.Span
}

func (s *spanStore) RecordFailure(_ context.Context, sp *mediatrail.Span, _ *mediatrail.IdempotencyRecord) error {
	if sp.Attributes["truncated"] != true {
		return &mediatrail.Error{Code: mediatrail.EINTERNAL, Message: "item too large"}
	}
	s.stored = append(s.stored, sp)
	return nil
}

// A provider call that ran is on the books even when its full span cannot be
// stored: the span is written again truncated and flagged.
func TestSecurity_FailedCallSpanStoredTruncated(t *testing.T) {
	store := &spanStore{}
	svc := &mediatrail.MediaService{Providers: failingProvider{}, Store: store}
	_, err := svc.Generate(context.Background(), "ws", mediatrail.CapabilityTTS, mediatrail.GenerateInput{
		Provider: "stub", Prompt: strings.Repeat("p", 20<<10), Config: map[string]any{"voice": "x"},
	})
	if err == nil {
		t.Fatal("Generate succeeded, want the provider's refusal")
	}
	if len(store.stored) != 1 {
		t.Fatalf("%d spans stored, want 1", len(store.stored))
	}
	sp := store.stored[0]
	if sp.Status != mediatrail.SpanError || sp.Provider != "stub" || len(sp.Prompt) > 1<<10 || sp.Error == nil || len(sp.Error.Message) > 1<<10 {
		t.Errorf("stored span = status %q provider %q prompt %d bytes error %+v", sp.Status, sp.Provider, len(sp.Prompt), sp.Error)
	}
}

func TestSecurity_FileNameRefusesBidiControls(t *testing.T) {
	for _, name := range []string{"invoice\u202Etxt.exe", "a\u202Ab.txt", "a\u202Db.txt", "a\u2066b.txt", "a\u2069b.txt", "a\u200Fb.txt", "a\u061Cb.txt"} {
		if got := mediatrail.ErrorCode(mediatrail.ValidateFileName(name)); got != mediatrail.EINVALID {
			t.Errorf("ValidateFileName(%q) code %q, want %q", name, got, mediatrail.EINVALID)
		}
	}
	if err := mediatrail.ValidateFileName("résumé מסמך.txt"); err != nil {
		t.Errorf("a right-to-left name without controls: %v", err)
	}
}

// noWorkflow is a configured workflow that must never be started.
type noWorkflow struct{}

func (noWorkflow) Start(context.Context, mediatrail.JobTask) error { panic("workflow started") }

// A callback_url on a server without CALLBACK_SIGNING_SECRET would never be
// sent: it is refused at submission, before the provider or workflow.
func TestSecurity_CallbackRefusedWithoutSigningSecret(t *testing.T) {
	jobs := &mediatrail.JobService{Workflow: noWorkflow{}}
	svc := &mediatrail.MediaService{Providers: stubProvider{}, Jobs: jobs}
	jobs.Media = svc
	_, err := svc.Generate(context.Background(), "ws", mediatrail.CapabilityVideoGen, mediatrail.GenerateInput{
		Provider: "stub", Prompt: "a lighthouse", CallbackURL: "https://example.com/hook",
	})
	var e *mediatrail.Error
	if !errors.As(err, &e) || e.Code != mediatrail.EINVALID || e.Details["field"] != "callback_url" {
		t.Fatalf("Generate: %v, want EINVALID on callback_url", err)
	}
}

// A run's grace from the event is validated before anything is read (the
// Reconciler here has no stores: touching one would panic).
func TestReconcileRefusesBadGraceOption(t *testing.T) {
	_, err := (&mediatrail.Reconciler{}).Run(context.Background(), mediatrail.ReconcileOptions{Grace: "-1h"})
	if mediatrail.ErrorCode(err) != mediatrail.EINVALID {
		t.Fatalf("Run: %v, want EINVALID", err)
	}
}
