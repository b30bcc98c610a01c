package providers

import (
	"context"
	"encoding/base64"
	"io"
	"net/url"
	"path"

	"github.com/gabriel-vasile/mimetype"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// file is an input held in memory, for a multipart part or a data URI.
type file struct {
	data        []byte
	contentType string
	name        string
}

// inputFile loads in: its bytes, its reader (read once) or, for providers that
// take no URL, a download of its URL.
func (p *provider) inputFile(ctx context.Context, in *mediatrail.MediaInput) (file, error) {
	f := file{data: in.Data, contentType: in.ContentType, name: in.FileName}
	var err error
	switch {
	case in.Body != nil:
		f.data, err = readInput(in.Body)
	case in.URL != "":
		f, err = p.download(ctx, in)
	}
	if err != nil {
		return file{}, err
	}
	if f.contentType == "" {
		f.contentType = mimetype.Detect(f.data).String()
	}
	if f.name == "" {
		f.name = "input"
		if m := mimetype.Lookup(f.contentType); m != nil {
			f.name += m.Extension()
		}
	}
	return f, nil
}

func readInput(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, mediatrail.MaxInputBytes+1))
	switch {
	case err != nil:
		return nil, err
	case len(data) > mediatrail.MaxInputBytes:
		return nil, mediatrail.TooLarge("", "the input must be at most %d MiB", mediatrail.MaxInputBytes>>20)
	}
	return data, nil
}

// download fetches an input URL through Config.Inputs, without the
// provider's credentials: it is the caller's URL, not the provider's. One
// attempt; a failure is the caller's to fix.
func (p *provider) download(ctx context.Context, in *mediatrail.MediaInput) (file, error) {
	if p.inputs == nil {
		return file{}, mediatrail.Invalid("input_url", "provider %s sends the input's bytes and has no downloader for input_url", p.name)
	}
	d, err := p.inputs.Download(ctx, in.URL)
	if err != nil {
		return file{}, err
	}
	defer d.Body.Close()
	data, err := readInput(d.Body)
	if err != nil {
		return file{}, err
	}
	f := file{data: data, contentType: in.ContentType, name: in.FileName}
	if f.contentType == "" {
		f.contentType = contentType(d.ContentType, data)
	}
	if u, err := url.Parse(in.URL); f.name == "" && err == nil {
		if base := path.Base(u.Path); base != "/" && base != "." {
			f.name = base
		}
	}
	return f, nil
}

// inputURL is in as a URL the provider fetches: its own URL, else its bytes as a
// data URI (fal, Replicate and Runway accept those).
func (p *provider) inputURL(ctx context.Context, in *mediatrail.MediaInput) (string, error) {
	if in.URL != "" {
		return in.URL, nil
	}
	f, err := p.inputFile(ctx, in)
	if err != nil {
		return "", err
	}
	return "data:" + f.contentType + ";base64," + base64.StdEncoding.EncodeToString(f.data), nil
}
