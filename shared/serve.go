package mediatrail

import (
	"mime"
	"strings"
)

// SafeDownloadType is the Content-Type a download of an active or unknown type
// is served with: browsers neither render nor run it.
const SafeDownloadType = "application/octet-stream"

// passiveTypes are the only types a browser may render inline: raster images,
// audio, video, plain text and JSON. Anything that can run script or load
// other resources (HTML, SVG, XHTML, XML, JavaScript, PDF, ...) is absent.
var passiveTypes = map[string]bool{
	"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true,
	"image/avif": true, "image/bmp": true,
	"text/plain":       true,
	"application/json": true,
}

// InlineSafe reports whether contentType is passive: a raster image, audio,
// video, plain text or JSON. Only these may be served inline.
func InlineSafe(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	if passiveTypes[mt] {
		return true
	}
	major, _, _ := strings.Cut(mt, "/")
	return major == "audio" || major == "video"
}

// ServedAs is how a presigned download answers, whatever was asked: a passive
// type keeps the requested disposition (default attachment) and its type;
// every other type, or none, is an attachment of type SafeDownloadType, so a
// stored HTML or SVG file never runs in the storage origin.
func ServedAs(d Disposition, contentType string) (Disposition, string) {
	if !InlineSafe(contentType) {
		return DispositionAttachment, SafeDownloadType
	}
	if d == "" {
		d = DispositionAttachment
	}
	return d, contentType
}
