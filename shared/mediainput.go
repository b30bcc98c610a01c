package mediatrail

import (
	"bytes"
	"context"
	"io"
	"maps"
	"mime"
	"net/url"
	"path"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/mediatrail/mediatrail/shared/probe"
)

// AssetURLScheme is the scheme of an input_url that names an asset of the
// caller's workspace: asset://{id}. The SDK has no input_asset_id, so this
// (or one of our signed URLs) is how its users chain calls (api.md, "Round 2").
const AssetURLScheme = "asset"

// validateInputURL accepts an http(s) URL or asset://{id}.
func validateInputURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
	case u.Scheme == AssetURLScheme:
		if !ValidID(u.Host) || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil || u.Fragment != "" {
			return Invalid("input_url", "an asset input_url is asset://{id}, the id a 27-character KSUID")
		}
		return nil
	case (u.Scheme == "http" || u.Scheme == "https") && u.Host != "":
		return nil
	}
	return Invalid("input_url", "input_url must be an http or https URL, or asset://{id}")
}

// ownInput turns an input_url that names an asset of ours into
// input_asset_id, so that the asset is read through the BlobStore (or signed
// afresh for a provider that fetches its input) and never over the network
// from ourselves: asset://{id}, or a URL this service signed for an object
// of its bucket (any signature, even an expired one: the API key is the
// authority). A URL of another workspace's object is ENOTFOUND, never its
// bytes; the asset itself is checked later (inputLoader.asset: ENOTFOUND when
// absent, ECONFLICT while pending). Any other URL is left for the download.
func (s *MediaService) ownInput(ctx context.Context, ws string, in *GenerateInput) error {
	if in.InputURL == "" {
		return nil
	}
	u, err := url.Parse(in.InputURL)
	if err != nil {
		return nil // validate refused it
	}
	id := ""
	if u.Scheme == AssetURLScheme {
		id = u.Host
	} else if key, ok := s.ourObject(ctx, u); ok {
		owner, assetID, _ := ParseStorageKey(key)
		if owner != ws {
			return NotFound("input_url", "asset not found")
		}
		id = assetID
	} else {
		return nil
	}
	in.InputAssetID, in.InputURL = id, ""
	return nil
}

// ourObject reports whether u addresses an asset object of this service's
// bucket, and its key: the path ends in an asset key (StorageKeyFor), and
// presigning that key again gives the same scheme, host and path. Signing is
// local: no request is made.
func (s *MediaService) ourObject(ctx context.Context, u *url.URL) (string, bool) {
	if s.Blobs == nil {
		return "", false
	}
	parts := strings.Split(u.EscapedPath(), "/")
	if len(parts) < 5 {
		return "", false
	}
	key := strings.Join(parts[len(parts)-5:], "/")
	if _, _, ok := ParseStorageKey(key); !ok {
		return "", false
	}
	signed, err := s.Blobs.PresignGet(ctx, key, GetOptions{Expires: DefaultSignedURLExpiry, Disposition: DispositionInline})
	if err != nil {
		return "", false
	}
	v, err := url.Parse(signed.URL)
	if err != nil || !strings.EqualFold(v.Scheme, u.Scheme) || !strings.EqualFold(v.Host, u.Host) || v.EscapedPath() != u.EscapedPath() {
		return "", false
	}
	return key, true
}

// ConfigKeyed is a Provider that names the config keys each capability
// takes: exactly those its client reads or passes on to the provider. A
// media call with any other key is refused (checkConfig) rather than sent
// on or dropped. Providers that do not implement it take any config.
type ConfigKeyed interface {
	ConfigKeys(c Capability) []string
}

// checkConfig refuses a config key provider p does not take for c:
// EINVALID naming config.<key>, with the allowed keys in the message and in
// details.allowed.
func checkConfig(p Provider, c Capability, cfg map[string]any) error {
	k, ok := p.(ConfigKeyed)
	if !ok || len(cfg) == 0 {
		return nil
	}
	allowed := append([]string{}, slices.Sorted(slices.Values(k.ConfigKeys(c)))...)
	for _, key := range slices.Sorted(maps.Keys(cfg)) {
		if slices.Contains(allowed, key) {
			continue
		}
		takes := "no config keys"
		if len(allowed) > 0 {
			takes = "only " + strings.Join(allowed, ", ")
		}
		return Invalid("config."+key, "provider %s does not take config.%s for %s: it takes %s", p.Name(), key, c, takes).
			With("allowed", allowed)
	}
	return nil
}

// inputLoader loads the inputs of media calls and jobs: assets of the
// caller's workspace, read from storage, and callers' URLs, downloaded
// under the public-address policy. MediaService and JobService each build
// theirs from the media configuration (Assets, Blobs, Inputs).
type inputLoader struct {
	assets AssetStore
	blobs  BlobStore
	urls   Downloader
}

// asset returns the caller's ready asset id as a media input. ENOTFOUND
// for an absent, deleted or foreign asset; ECONFLICT while its upload is
// pending.
func (l inputLoader) asset(ctx context.Context, ws, id string) (*Asset, error) {
	a, err := l.assets.FindAsset(ctx, ws, id)
	switch {
	case err != nil:
		return nil, err
	case a.Status == StatusDeleted:
		return nil, Errorf(ENOTFOUND, "asset not found")
	case a.Status != StatusReady:
		return nil, Errorf(ECONFLICT, "the input asset's upload is not complete")
	}
	return a, nil
}

// load loads the input of request req of workspace ws: an asset of the
// caller's workspace or the caller's URL, fetched by us under the
// public-address policy (providers never fetch callers' URLs). Its content
// type is sniffed from the bytes.
func (l inputLoader) load(ctx context.Context, ws string, req GenerateInput) (*MediaInput, error) {
	var r io.ReadCloser
	in := &MediaInput{}
	if id := req.InputAssetID; id != "" {
		a, err := l.asset(ctx, ws, id)
		switch {
		case err != nil:
			return nil, err
		case a.FileSize > MaxInputBytes:
			return nil, TooLarge("input_asset_id", "the input must be at most %d MiB", MaxInputBytes>>20)
		}
		if r, err = l.blobs.Open(ctx, a.StorageKey); err != nil {
			return nil, err
		}
		in.ContentType, in.FileName = a.ContentType, a.FileName
	} else {
		d, err := l.urls.Download(ctx, req.InputURL)
		if err != nil {
			return nil, err
		}
		r, in.ContentType = d.Body, d.ContentType
		if u, err := url.Parse(req.InputURL); err == nil && path.Base(u.Path) != "/" && path.Base(u.Path) != "." {
			in.FileName = SafeFileName(path.Base(u.Path))
		}
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, MaxInputBytes+1))
	switch {
	case err != nil:
		return nil, err
	case len(data) > MaxInputBytes:
		return nil, TooLarge("", "the input must be at most %d MiB", MaxInputBytes>>20)
	case len(data) == 0:
		return nil, Invalid("input_url", "the input is empty")
	}
	in.Data = data
	info, _ := probe.Inspect(bytes.NewReader(data), int64(len(data)))
	if !generic(info.ContentType) || in.ContentType == "" {
		in.ContentType = info.ContentType
	}
	return in, nil
}

// scriptOf is the text a TTS input holds.
func scriptOf(in *MediaInput) (string, error) {
	switch major, _, _ := strings.Cut(in.ContentType, "/"); {
	case major != "text":
		return "", Invalid("input_url", "tts input must be a text file, not %s", in.ContentType)
	case len(in.Data) > MaxPromptBytes:
		return "", TooLarge("", "tts input text must be at most %d KiB", MaxPromptBytes>>10)
	case !utf8.Valid(in.Data) || strings.TrimSpace(string(in.Data)) == "":
		return "", Invalid("input_url", "tts input must be non-empty UTF-8 text")
	}
	return string(in.Data), nil
}

// generic content types say nothing about the bytes.
func generic(ct string) bool {
	mt, _, _ := mime.ParseMediaType(ct)
	return mt == "" || mt == "application/octet-stream" || mt == "binary/octet-stream"
}
