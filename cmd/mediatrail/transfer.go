package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gabriel-vasile/mimetype"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// bar is one progress bar over total bytes on stderr, silent without a
// terminal or with --quiet.
func (c *cli) bar(total int64, description string) *progressbar.ProgressBar {
	if c.quiet || !c.progress {
		return progressbar.DefaultBytesSilent(total, description)
	}
	return progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(c.stderr),
		progressbar.OptionSetDescription(description),
		progressbar.OptionShowBytes(true),
		progressbar.OptionShowCount(),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
}

// each runs do for every item, at most parallel at a time, prints each
// success's line on stdout and each failure on stderr (one writer at a time:
// the outputs may be buffers); the error counts the failures.
func (c *cli) each(items []string, parallel int, do func(string) (line string, err error)) error {
	sem := make(chan struct{}, max(1, parallel))
	var wg sync.WaitGroup
	var mu sync.Mutex
	failed := 0
	for _, item := range items {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			line, err := do(item)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				fmt.Fprintf(c.stderr, "%s: %v\n", item, err)
				failed++
				return
			}
			fmt.Fprintln(c.stdout, line)
		})
	}
	wg.Wait()
	if failed > 0 {
		return fmt.Errorf("%d of %d failed", failed, len(items))
	}
	return nil
}

func (c *cli) assetsDownloadCommand() *cobra.Command {
	var dir string
	var parallel int
	cmd := &cobra.Command{
		Use:   "download ID...",
		Short: "Download assets, resuming interrupted downloads, checking their sha256",
		Long: `download saves each asset under its file name in -o DIR through a signed URL. Bytes go
to NAME.part first: a download that is interrupted resumes from there (an HTTP Range
request) the next time. The file is kept only when its SHA-256 matches the asset's;
otherwise the partial file is discarded. A file already there with the right SHA-256 is
not downloaded again.`,
		Example: `  mediatrail assets download 2bF3hY8wZQmS9vT1uK4nR7pL0aX -o out/
  mediatrail assets ls --execution run-1 --jsonl | jq -r .id | xargs mediatrail assets download -o run-1/`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, ids []string) error {
			api, err := c.client()
			if err != nil {
				return err
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			assets := map[string]*mediatrail.Asset{}
			var total int64
			for _, id := range ids {
				a, err := getAsset(cmd.Context(), api, id)
				if err != nil {
					return fmt.Errorf("%s: %w", id, err)
				}
				assets[id] = a
				total += a.FileSize
			}
			bar := c.bar(total, "downloading")
			defer bar.Finish()
			return c.each(ids, parallel, func(id string) (string, error) {
				path, err := c.download(cmd.Context(), api, assets[id], dir, bar)
				return id + "\t" + path, err
			})
		},
	}
	cmd.Flags().StringVarP(&dir, "output", "o", ".", "directory to write into")
	cmd.Flags().IntVarP(&parallel, "parallel", "p", 4, "files at a time")
	return cmd
}

// download writes a ready asset to dir/<file name> and returns the path.
func (c *cli) download(ctx context.Context, api *client, a *mediatrail.Asset, dir string, bar io.Writer) (string, error) {
	if a.Status != mediatrail.StatusReady {
		return "", fmt.Errorf("the asset is %s, not ready", a.Status)
	}
	name := filepath.Base(a.FileName)
	if name == "." || name == ".." || name == string(filepath.Separator) {
		name = a.ID
	}
	dst := filepath.Join(dir, name)
	if sum, err := fileSHA256(dst); err == nil && sum == a.SHA256 {
		_, _ = io.CopyN(bar, zeros{}, a.FileSize)
		return dst, nil
	}
	part := dst + ".part"
	f, err := os.OpenFile(part, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return "", err
	}
	defer f.Close()
	offset, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return "", err
	}
	if offset > a.FileSize {
		offset = 0
	}
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(h, bar), io.NewSectionReader(f, 0, offset)); err != nil {
		return "", err
	}
	if offset < a.FileSize {
		if err := c.fetch(ctx, api, a.ID, f, offset, h, bar); err != nil {
			return "", err
		}
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != a.SHA256 {
		os.Remove(part)
		return "", fmt.Errorf("sha256 %s does not match the asset's %s: the download was discarded, run again", got, a.SHA256)
	}
	return dst, os.Rename(part, dst)
}

// fetch appends the asset's bytes from offset to f through a fresh signed
// URL, hashing them into h. A server that ignores the Range answers the whole
// file, which then replaces f's content.
func (c *cli) fetch(ctx context.Context, api *client, id string, f *os.File, offset int64, h io.Writer, bar io.Writer) error {
	var signed struct {
		URL string `json:"url"`
	}
	if _, err := api.call(ctx, "GET", "/api/v1/assets/"+url.PathEscape(id)+"/signed-url", nil, nil, &signed); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, "GET", signed.URL, nil)
	if err != nil {
		return err
	}
	if offset > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", offset))
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("download: %w", err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusPartialContent && strings.HasPrefix(resp.Header.Get("Content-Range"), fmt.Sprintf("bytes %d-", offset)):
	case resp.StatusCode == http.StatusOK:
		if hs, ok := h.(interface{ Reset() }); ok {
			hs.Reset()
		}
		if err := f.Truncate(0); err != nil {
			return err
		}
		offset = 0
	default:
		return fmt.Errorf("download: HTTP %d from storage", resp.StatusCode)
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return err
	}
	if _, err := io.Copy(io.MultiWriter(f, h, bar), resp.Body); err != nil {
		return fmt.Errorf("download interrupted (run again to resume): %w", err)
	}
	return nil
}

// zeros reads as endless zero bytes (progress for skipped files).
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	return mediatrail.SHA256Hex(f)
}

// uploadOptions are what upload records with each file.
type uploadOptions struct {
	execution, agent, contentType string
	retention                     int
	metadata                      []string
}

func (c *cli) assetsUploadCommand() *cobra.Command {
	var o uploadOptions
	var parallel int
	cmd := &cobra.Command{
		Use:   "upload FILE...",
		Short: "Upload files as assets (sha256 checked by the API)",
		Long: `upload registers each file (name, size, SHA-256, content type sniffed from its bytes
unless --content-type), sends its bytes straight to storage through the presigned
request the API answers (a multipart upload, part by part, for large files), then asks
the API to verify size and SHA-256 and mark the asset ready. Files go --parallel at a
time. Prints each file's asset id.`,
		Example: `  mediatrail assets upload speech.wav notes.txt --execution run-1 --agent writer
  mediatrail assets upload big.mov --metadata source=camera --retention 30`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			md, err := keyValues(o.metadata)
			if err != nil {
				return usagef("--metadata: %v", err)
			}
			if cmd.Flags().Changed("retention") {
				if err := mediatrail.ValidateRetentionDays(o.retention); err != nil {
					return usagef("--retention must be 0, 7, 30, 90 or 365")
				}
			}
			api, err := c.client()
			if err != nil {
				return err
			}
			var total int64
			for _, p := range files {
				st, err := os.Stat(p)
				if err != nil {
					return err
				}
				if !st.Mode().IsRegular() {
					return usagef("%s is not a regular file", p)
				}
				total += st.Size()
			}
			bar := c.bar(total, "uploading")
			defer bar.Finish()
			return c.each(files, parallel, func(path string) (string, error) {
				in := mediatrail.RegisterInput{ExecutionID: o.execution, AgentID: o.agent, Metadata: md, ContentType: o.contentType}
				if cmd.Flags().Changed("retention") {
					in.RetentionDays = &o.retention
				}
				a, err := c.upload(cmd.Context(), api, path, in, bar)
				if err != nil {
					return "", err
				}
				return a.ID + "\t" + path, nil
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.execution, "execution", "", "execution id to record")
	fl.StringVar(&o.agent, "agent", "", "agent id to record")
	fl.StringVar(&o.contentType, "content-type", "", "content type (default: sniffed from the bytes)")
	fl.IntVar(&o.retention, "retention", 0, "keep for 7, 30, 90 or 365 days, or 0 forever (default: the workspace's)")
	fl.StringArrayVar(&o.metadata, "metadata", nil, "KEY=VALUE to record in the metadata (repeatable; VALUE may be JSON)")
	fl.IntVarP(&parallel, "parallel", "p", 4, "files at a time")
	return cmd
}

// upload registers path, sends its bytes and completes the asset.
func (c *cli) upload(ctx context.Context, api *client, path string, in mediatrail.RegisterInput, bar io.Writer) (*mediatrail.Asset, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	sum, err := mediatrail.SHA256Hex(f)
	if err != nil {
		return nil, err
	}
	if in.ContentType == "" {
		mt, err := mimetype.DetectReader(io.NewSectionReader(f, 0, size))
		if err != nil {
			return nil, err
		}
		in.ContentType = mt.String()
	}
	in.FileName, in.Size, in.SHA256 = filepath.Base(path), &size, sum
	var reg mediatrail.Registration
	if _, err := api.call(ctx, "POST", "/api/v1/assets", nil, in, &reg); err != nil {
		return nil, err
	}
	var complete *mediatrail.CompleteInput
	if m := reg.Multipart; m != nil {
		if complete, err = c.putParts(ctx, f, m, bar); err != nil {
			return nil, err
		}
	} else {
		if _, err := c.put(ctx, reg.Upload.URL, reg.Upload.Headers, io.NewSectionReader(f, 0, size), size, bar); err != nil {
			return nil, err
		}
	}
	var a mediatrail.Asset
	if _, err := api.call(ctx, "POST", "/api/v1/assets/"+reg.Asset.ID+"/complete", nil, optional(complete), &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// optional is v as a request body: none for a nil pointer.
func optional[T any](v *T) any {
	if v == nil {
		return nil
	}
	return v
}

// putParts sends each part of a multipart upload and returns the ETags.
func (c *cli) putParts(ctx context.Context, f *os.File, m *mediatrail.MultipartUpload, bar io.Writer) (*mediatrail.CompleteInput, error) {
	out := &mediatrail.CompleteInput{UploadID: m.UploadID}
	var offset int64
	for _, p := range m.Parts {
		etag, err := c.put(ctx, p.URL, m.Headers, io.NewSectionReader(f, offset, p.Size), p.Size, bar)
		if err != nil {
			return nil, fmt.Errorf("part %d: %w", p.PartNumber, err)
		}
		if etag == "" {
			return nil, fmt.Errorf("part %d: storage answered no ETag", p.PartNumber)
		}
		out.Parts = append(out.Parts, mediatrail.CompletedPart{PartNumber: p.PartNumber, ETag: etag})
		offset += p.Size
	}
	return out, nil
}

// put sends size bytes of body to a presigned URL with its signed headers
// and returns the ETag the store answered.
func (c *cli) put(ctx context.Context, target string, headers map[string]string, body io.Reader, size int64, bar io.Writer) (string, error) {
	req, err := http.NewRequestWithContext(ctx, "PUT", target, io.TeeReader(body, bar))
	if err != nil {
		return "", err
	}
	req.ContentLength = size
	if size == 0 {
		req.Body = http.NoBody
	}
	for k, v := range headers {
		if !strings.EqualFold(k, "Content-Length") {
			req.Header.Set(k, v)
		}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("upload: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		detail, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return "", fmt.Errorf("upload: HTTP %d from storage: %s", resp.StatusCode, storageCode(detail))
	}
	return resp.Header.Get("ETag"), nil
}

// storageCode picks the <Code> of an S3 error document.
func storageCode(doc []byte) string {
	s := string(doc)
	if i := strings.Index(s, "<Code>"); i >= 0 {
		if j := strings.Index(s[i:], "</Code>"); j > 0 {
			return s[i+len("<Code>") : i+j]
		}
	}
	return "no error code"
}

// keyValues parses KEY=VALUE pairs; a VALUE that is JSON keeps its type.
func keyValues(pairs []string) (map[string]any, error) {
	if len(pairs) == 0 {
		return nil, nil
	}
	out := map[string]any{}
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, errors.New(p + " is not KEY=VALUE")
		}
		out[k] = jsonOrString(v)
	}
	return out, nil
}
