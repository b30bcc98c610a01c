package localstack

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// The ids the events/ fixtures name: an asset, a credential or media tool
// (one id string serves both kinds of fixture), and a video job.
const (
	FixtureAssetID      = "2ouzm0mSJ4Aq5JQYkM5S5RxJcBB"
	FixtureCredentialID = "2HbvIAxZ5VhtrVbGf5CC7eOs6xS"
	FixtureToolID       = FixtureCredentialID
	FixtureJobID        = "2ouzp3QY5o6mZq9sN4wPeYbH1Ta"
	// FixtureSpanID names a span, and its trace: a call that names no trace
	// or execution is its own trace (trace_id = span id).
	FixtureSpanID = "2ovBQ7cL3f5n6bXo9PqR8sTzUaW"
)

// SeedFixture creates, through the HTTP API at api (the stack's base URL)
// with key, what event (an events/ fixture) refers to, and answers the event
// with the fixture's ids replaced by those of what it created: a ready
// asset, a credential or media tool made from the fixtures
// credential-create.json and media-tool-create.json of dir, a video job of
// the offline provider for the job routes (the job steps' fixtures are left
// as they are: a step for a job that does not exist ends at once). Ids are minted
// by the API, so a fixture's own cannot be reused; seeding anew before each
// invocation lets a fixture that deletes run as often as one that reads.
// Other events are answered as they are.
func SeedFixture(ctx context.Context, api, key, dir string, event []byte) ([]byte, error) {
	c := &seeder{api: strings.TrimSuffix(api, "/"), key: key, dir: dir}
	var route struct {
		RouteKey string `json:"routeKey"`
	}
	_ = json.Unmarshal(event, &route)
	seeds := []struct {
		id, prefix string
		seed       func(context.Context) (string, error)
	}{
		{FixtureAssetID, "", c.asset},
		{FixtureCredentialID, "/api/v1/credentials", c.fromFixture("credential-create.json")},
		{FixtureToolID, "/api/v1/media-tools", c.fromFixture("media-tool-create.json")},
		{FixtureJobID, "/api/v1/media/jobs", c.job},
		{FixtureSpanID, "/api/v1/traces", c.span},
	}
	for _, s := range seeds {
		if !bytes.Contains(event, []byte(s.id)) || !strings.Contains(route.RouteKey, s.prefix) {
			continue
		}
		id, err := s.seed(ctx)
		if err != nil {
			return nil, fmt.Errorf("seed %s: %w", s.id, err)
		}
		event = bytes.ReplaceAll(event, []byte(s.id), []byte(id))
	}
	return event, nil
}

type seeder struct{ api, key, dir string }

// job submits a video job to the offline provider local. It stays active
// for the state machine's first wait (VideoPollInterval, seconds), so a
// fixture that cancels it finds it running.
func (c *seeder) job(ctx context.Context) (string, error) {
	var out struct {
		JobID string `json:"job_id"`
	}
	err := c.call(ctx, http.MethodPost, "/api/v1/media/video_gen",
		[]byte(`{"provider":"local","prompt":"a lighthouse at dusk, seeded for an events/ fixture"}`), &out)
	return out.JobID, err
}

// span makes an image with the offline provider local and answers the id of
// its span, which is also its trace's.
func (c *seeder) span(ctx context.Context) (string, error) {
	var out struct {
		SpanID string `json:"span_id"`
	}
	err := c.call(ctx, http.MethodPost, "/api/v1/media/image_gen",
		[]byte(`{"provider":"local","prompt":"a lighthouse at dusk, seeded for an events/ fixture"}`), &out)
	return out.SpanID, err
}

// asset registers, uploads and completes a small text file.
func (c *seeder) asset(ctx context.Context) (string, error) {
	body := []byte("an asset seeded for an events/ fixture\n")
	sum := sha256.Sum256(body)
	var reg struct {
		Asset struct {
			ID string `json:"id"`
		} `json:"asset"`
		Upload struct {
			URL     string            `json:"url"`
			Headers map[string]string `json:"headers"`
		} `json:"upload"`
	}
	in, _ := json.Marshal(map[string]any{"file_name": "seeded.txt", "content_type": "text/plain", "size": len(body),
		"sha256": hex.EncodeToString(sum[:])})
	if err := c.call(ctx, http.MethodPost, "/api/v1/assets", in, &reg); err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, reg.Upload.URL, bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	for k, v := range reg.Upload.Headers {
		req.Header.Set(k, v)
	}
	req.ContentLength = int64(len(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return "", fmt.Errorf("upload: %s: %s", resp.Status, b)
	}
	return reg.Asset.ID, c.call(ctx, http.MethodPost, "/api/v1/assets/"+reg.Asset.ID+"/complete", nil, nil)
}

// fromFixture creates what an API Gateway fixture of dir creates (its route
// and body) and answers the new id.
func (c *seeder) fromFixture(name string) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		raw, err := os.ReadFile(filepath.Join(c.dir, name))
		if err != nil {
			return "", err
		}
		var ev struct {
			RouteKey string `json:"routeKey"`
			Body     string `json:"body"`
		}
		if err := json.Unmarshal(raw, &ev); err != nil {
			return "", err
		}
		method, path, _ := strings.Cut(ev.RouteKey, " ")
		var out struct {
			ID string `json:"id"`
		}
		if err := c.call(ctx, method, path, []byte(ev.Body), &out); err != nil {
			return "", err
		}
		return out.ID, nil
	}
}

// call sends one API request and decodes the data of a 2xx answer into out.
func (c *seeder) call(ctx context.Context, method, path string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.api+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("X-API-Key", c.key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, b)
	}
	if out == nil {
		return nil
	}
	var env struct{ Data json.RawMessage }
	if err := json.Unmarshal(b, &env); err != nil {
		return err
	}
	return json.Unmarshal(env.Data, out)
}
