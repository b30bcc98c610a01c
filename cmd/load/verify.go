package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// verification is what the check after the load found.
type verification struct {
	Acknowledged int // completes answered 2xx, deleted or not
	Deleted      int // of those, deletes answered 2xx
	Checked      int // acknowledged, not deleted: listed and downloaded
	Uncertain    int // deletes that failed: not checked either way
	Lost         []string
	Problems     []string // requests of the check that failed
}

// Err is non-nil when an asset was lost or the check could not run.
func (v verification) Err() error {
	var errs []error
	if len(v.Lost) > 0 {
		errs = append(errs, fmt.Errorf("%d acknowledged assets lost", len(v.Lost)))
	}
	if len(v.Problems) > 0 {
		errs = append(errs, fmt.Errorf("the check failed: %s", v.Problems[0]))
	}
	return errors.Join(errs...)
}

func (v verification) print(out io.Writer) {
	fmt.Fprintf(out, "\nnothing lost? %d acknowledged, %d of them deleted, %d checked (listed, downloaded through the signed URL, sha256 equal), %d with a failed delete not checked\n",
		v.Acknowledged, v.Deleted, v.Checked, v.Uncertain)
	for i, l := range v.Lost {
		if i == 10 {
			fmt.Fprintf(out, "  ... %d more\n", len(v.Lost)-i)
			break
		}
		fmt.Fprintln(out, "  LOST:", l)
	}
	for _, p := range v.Problems {
		fmt.Fprintln(out, "  check failed:", p)
	}
	if v.Err() == nil {
		fmt.Fprintln(out, "  ok: nothing lost")
	}
}

// verify lists each workspace and checks every acknowledged asset the load
// did not delete: it is listed, and its signed URL downloads bytes with the
// SHA-256 it was registered with; a deleted asset must not be listed.
func verify(ctx context.Context, api string, w *workload) verification {
	c := &http.Client{Timeout: time.Minute}
	byState := w.uploads()
	v := verification{
		Deleted: len(byState[deleted]), Uncertain: len(byState[uncertain]),
		Acknowledged: len(byState[acknowledged]) + len(byState[deleting]) + len(byState[deleted]) + len(byState[uncertain]),
	}
	var mu sync.Mutex
	fail := func(list *[]string, format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		*list = append(*list, fmt.Sprintf(format, args...))
	}
	listed := map[string]bool{}
	for _, ws := range w.spaces {
		ids, err := listAll(ctx, c, api, ws)
		if err != nil {
			fail(&v.Problems, "list %s: %v", ws.ID, err)
			return v
		}
		for _, id := range ids {
			listed[id] = true
		}
	}
	for _, u := range byState[deleted] {
		if listed[u.id] {
			fail(&v.Lost, "%s (%s) was deleted but is still listed", u.id, u.ws.ID)
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	// An asset whose delete was in flight when the load stopped counts as
	// not deleted: it must still be there.
	for _, u := range append(byState[acknowledged], byState[deleting]...) {
		if !listed[u.id] {
			fail(&v.Lost, "%s (%s) is not listed", u.id, u.ws.ID)
			continue
		}
		v.Checked++
		g.Go(func() error {
			sum, err := download(gctx, c, api, u)
			switch {
			case err != nil:
				fail(&v.Lost, "%s (%s): %v", u.id, u.ws.ID, err)
			case sum != u.sha256:
				fail(&v.Lost, "%s (%s): downloaded sha256 %s, registered %s", u.id, u.ws.ID, sum, u.sha256)
			}
			return nil
		})
	}
	_ = g.Wait()
	return v
}

// listAll follows the cursors of GET /api/v1/assets in ws.
func listAll(ctx context.Context, c *http.Client, api string, ws *workspace) ([]string, error) {
	var ids []string
	q := url.Values{"limit": {"100"}}
	for {
		var page struct {
			Data []struct {
				ID string `json:"id"`
			} `json:"data"`
			Meta struct {
				NextCursor string `json:"next_cursor"`
			} `json:"meta"`
		}
		if err := get(ctx, c, api+"/api/v1/assets?"+q.Encode(), ws.Key, &page); err != nil {
			return nil, err
		}
		for _, a := range page.Data {
			ids = append(ids, a.ID)
		}
		if page.Meta.NextCursor == "" {
			return ids, nil
		}
		q.Set("cursor", page.Meta.NextCursor)
	}
}

// download fetches u through its signed URL and returns the bytes' SHA-256.
func download(ctx context.Context, c *http.Client, api string, u *upload) (string, error) {
	var signed struct {
		Data struct {
			URL string `json:"url"`
		} `json:"data"`
	}
	if err := get(ctx, c, api+"/api/v1/assets/"+u.id+"/signed-url", u.ws.Key, &signed); err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, signed.Data.URL, nil)
	if err != nil {
		return "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("signed URL: HTTP %d", resp.StatusCode)
	}
	h := sha256.New()
	if _, err := io.Copy(h, resp.Body); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// get calls the API with key and decodes the JSON answer into out.
func get(ctx context.Context, c *http.Client, u, key string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("X-API-Key", key)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d: %.200s", req.URL.Path, resp.StatusCode, body)
	}
	return json.Unmarshal(body, out)
}
