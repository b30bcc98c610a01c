package e2e_test

import (
	"bytes"
	"image"
	imagedraw "image/draw"
	"image/png"
	"io"
	"testing"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/provenance"
)

// provenanceOf is the record every stored generated output must carry.
func provenanceOf(a *mediatrail.Asset) provenance.Record {
	return provenance.Record{AssetID: a.ID, WorkspaceID: a.WorkspaceID, Provider: a.Provider, Model: a.Model,
		SpanID: a.SpanID, ExecutionID: a.ExecutionID}
}

// MustEmbed is what storage must hold for a provider's output: its bytes
// with the record embedded (unchanged for types that carry none).
func MustEmbed(tb testing.TB, data []byte, contentType string, rec provenance.Record) []byte {
	tb.Helper()
	r, err := provenance.Embed(bytes.NewReader(data), contentType, rec)
	if err != nil {
		tb.Fatal(err)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// MustPixels decodes a PNG into its RGBA pixels.
func MustPixels(tb testing.TB, b []byte) []byte {
	tb.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		tb.Fatal(err)
	}
	rgba := image.NewRGBA(img.Bounds())
	imagedraw.Draw(rgba, rgba.Bounds(), img, img.Bounds().Min, imagedraw.Src)
	return rgba.Pix
}
