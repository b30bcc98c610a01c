package mcp

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/google/jsonschema-go/jsonschema"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

func TestMediaToolSchemas(t *testing.T) {
	for _, c := range mediatrail.Capabilities {
		t.Run(string(c), func(t *testing.T) {
			s := MediaTool(string(c), "", c, mediatrail.GenerateInput{}).Spec.InputSchema.(*jsonschema.Schema)
			for _, f := range runFields {
				if _, ok := s.Properties[f]; ok {
					t.Errorf("run field %s is an argument", f)
				}
			}
			if _, ok := s.Properties["callback_url"]; ok != c.Async() {
				t.Errorf("callback_url offered: %v, async: %v", ok, c.Async())
			}
			_, hasInput := s.Properties["input_asset_id"]
			if wantInput := c != mediatrail.CapabilityImageGen && c != mediatrail.CapabilityVideoGen; hasInput != wantInput {
				t.Errorf("input_asset_id offered: %v", hasInput)
			}
			if !slices.Equal(s.Required, []string{"provider"}) || s.Properties["provider"].Description == "" {
				t.Errorf("required %v, provider %+v", s.Required, s.Properties["provider"])
			}
		})
	}
	withProvider := MediaTool("my_voice", "", mediatrail.CapabilityTTS, mediatrail.GenerateInput{Provider: "local"})
	if s := withProvider.Spec.InputSchema.(*jsonschema.Schema); len(s.Required) != 0 || withProvider.Spec.Name != "my_voice" {
		t.Errorf("a default provider: required %v, name %s", s.Required, withProvider.Spec.Name)
	}
}

func TestWithDefaults(t *testing.T) {
	days := 30
	d := mediatrail.GenerateInput{Provider: "local", Model: "espeak-ng", Prompt: "default", RetentionDays: &days,
		Config: map[string]any{"voice": "en-us", "speed": 1.0}}
	got := withDefaults(mediatrail.GenerateInput{Prompt: "hello", Config: map[string]any{"speed": 2.0}}, d)
	if got.Provider != "local" || got.Model != "espeak-ng" || got.Prompt != "hello" || got.RetentionDays != &days ||
		got.Config["voice"] != "en-us" || got.Config["speed"] != 2.0 {
		t.Errorf("withDefaults = %+v", got)
	}
	if d.Config["speed"] != 1.0 {
		t.Error("the defaults changed")
	}
	if got := withDefaults(mediatrail.GenerateInput{Provider: "openai"}, mediatrail.GenerateInput{}); got.Provider != "openai" || got.Config != nil {
		t.Errorf("no defaults: %+v", got)
	}
}

func TestDecodeArguments(t *testing.T) {
	s, err := schemaFor[jobInput](nil).Resolve(nil)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		raw, errPart string
	}{
		{`{"job_id":"j","wait_seconds":3}`, ""},
		{`{"job_id":"j"}`, ""},
		{``, "job_id"},
		{`null`, "job_id"},
		{`{"job_id":"j","extra":1}`, "extra"},
		{`{"job_id":7}`, "job_id"},
		{`[1]`, "schema"},
		{`{"job_id":`, "JSON object"},
	}
	for _, tc := range cases {
		var in jobInput
		err := decodeArguments(s, json.RawMessage(tc.raw), &in)
		switch {
		case tc.errPart == "" && err != nil:
			t.Errorf("%s: %v", tc.raw, err)
		case tc.errPart != "" && (mediatrail.ErrorCode(err) != mediatrail.EINVALID || !strings.Contains(mediatrail.ErrorMessage(err), tc.errPart)):
			t.Errorf("%s: %v, want validation_error mentioning %q", tc.raw, err, tc.errPart)
		}
	}
}
