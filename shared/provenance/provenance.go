package provenance

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"hash/crc32"
	"html"
	"io"
	"strings"
)

// DigitalSourceType is the IPTC term for media created by a trained model.
const DigitalSourceType = "http://cv.iptc.org/newsworthy/DigitalSourceType/trainedAlgorithmicMedia"

// Namespace is the XMP namespace of the mediatrail properties.
const Namespace = "urn:mediatrail:provenance:1.0#"

// MaxPrefixBytes bounds what is buffered before the insertion point (PNG
// chunks before the first IDAT, a JPEG APP0 segment). A file whose prefix is
// larger streams through unchanged rather than growing memory.
const MaxPrefixBytes = 1 << 20

// xmpUUID is the ISO BMFF uuid box type that carries XMP.
var xmpUUID = [16]byte{0xBE, 0x7A, 0xCF, 0xCB, 0x97, 0xA9, 0x42, 0xE8, 0x9C, 0x71, 0x99, 0x94, 0x91, 0xE3, 0xAF, 0xAC}

// Record is what is embedded. AssetID and WorkspaceID are required by Find.
type Record struct {
	AssetID     string
	WorkspaceID string
	Provider    string
	Model       string
	SpanID      string
	ExecutionID string
}

// properties lists the record's fields by their XMP property names.
func (r Record) properties() [][2]string {
	return [][2]string{
		{"AssetID", r.AssetID}, {"WorkspaceID", r.WorkspaceID}, {"Provider", r.Provider},
		{"Model", r.Model}, {"SpanID", r.SpanID}, {"ExecutionID", r.ExecutionID},
	}
}

// XMP renders the record as an XMP packet.
func (r Record) XMP() []byte {
	var b bytes.Buffer
	b.WriteString("<?xpacket begin=\"\ufeff\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n")
	b.WriteString(`<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">`)
	b.WriteString(`<rdf:Description rdf:about="" xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" xmlns:mediatrail="` + Namespace + `"`)
	b.WriteString("\n Iptc4xmpExt:DigitalSourceType=\"" + DigitalSourceType + "\"")
	for _, p := range r.properties() {
		if p[1] == "" {
			continue
		}
		b.WriteString("\n mediatrail:" + p[0] + "=\"")
		xml.EscapeText(&b, []byte(p[1]))
		b.WriteString("\"")
	}
	b.WriteString("/></rdf:RDF></x:xmpmeta>\n<?xpacket end=\"r\"?>")
	return b.Bytes()
}

// Embed returns r with the record embedded in the container named by
// contentType (image/png, image/jpeg, video/mp4 and other ISO BMFF video);
// any other type, or a file whose framing is not as expected, streams through
// unchanged. Read errors of r are returned by the reader, never swallowed.
func Embed(r io.Reader, contentType string, rec Record) (io.Reader, error) {
	ct, _, _ := strings.Cut(strings.ToLower(contentType), ";")
	switch strings.TrimSpace(ct) {
	case "image/png":
		return embedPNG(bufio.NewReader(r), rec.XMP())
	case "image/jpeg":
		return embedJPEG(bufio.NewReader(r), rec.XMP())
	case "video/mp4", "video/quicktime", "video/3gpp", "audio/mp4":
		return io.MultiReader(r, bytes.NewReader(uuidBox(rec.XMP()))), nil
	}
	return r, nil
}

var pngSignature = []byte("\x89PNG\r\n\x1a\n")

// embedPNG buffers the chunks before the first IDAT and inserts an
// uncompressed iTXt chunk holding the packet just before it.
func embedPNG(br *bufio.Reader, packet []byte) (io.Reader, error) {
	var prefix bytes.Buffer
	if ok, err := take(br, &prefix, len(pngSignature)); err != nil || !ok || !bytes.Equal(prefix.Bytes(), pngSignature) {
		return io.MultiReader(&prefix, br), err
	}
	for {
		head, err := br.Peek(8)
		if err != nil {
			return io.MultiReader(&prefix, br), ignoreEOF(err)
		}
		n := int(binary.BigEndian.Uint32(head))
		kind := string(head[4:8])
		if kind == "IDAT" {
			prefix.Write(itxtChunk(packet))
			return io.MultiReader(&prefix, br), nil
		}
		if n < 0 || prefix.Len()+12+n > MaxPrefixBytes || kind == "IEND" {
			return io.MultiReader(&prefix, br), nil
		}
		if ok, err := take(br, &prefix, 12+n); err != nil || !ok {
			return io.MultiReader(&prefix, br), err
		}
	}
}

// itxtChunk is an iTXt chunk: keyword, NUL, compression flag 0, method 0,
// empty language tag and translated keyword, then the text.
func itxtChunk(packet []byte) []byte {
	data := append([]byte("XML:com.adobe.xmp\x00\x00\x00\x00\x00"), packet...)
	c := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	c = append(c, "iTXt"...)
	c = append(c, data...)
	return binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(c[4:]))
}

const xmpJPEGNamespace = "http://ns.adobe.com/xap/1.0/\x00"

// embedJPEG inserts an APP1 XMP segment after SOI, or after the APP0 (JFIF)
// segment that must stay first when present.
func embedJPEG(br *bufio.Reader, packet []byte) (io.Reader, error) {
	var prefix bytes.Buffer
	seg := 2 + len(xmpJPEGNamespace) + len(packet)
	if ok, err := take(br, &prefix, 2); err != nil || !ok || !bytes.Equal(prefix.Bytes(), []byte{0xFF, 0xD8}) || seg > 0xFFFF {
		return io.MultiReader(&prefix, br), err
	}
	if head, err := br.Peek(4); err == nil && head[0] == 0xFF && head[1] == 0xE0 {
		if ok, err := take(br, &prefix, 2+int(binary.BigEndian.Uint16(head[2:]))); err != nil || !ok {
			return io.MultiReader(&prefix, br), err
		}
	}
	prefix.Write([]byte{0xFF, 0xE1})
	prefix.Write(binary.BigEndian.AppendUint16(nil, uint16(seg)))
	prefix.WriteString(xmpJPEGNamespace)
	prefix.Write(packet)
	return io.MultiReader(&prefix, br), nil
}

// uuidBox is a top-level ISO BMFF uuid box carrying the packet.
func uuidBox(packet []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(8+16+len(packet)))
	b = append(b, "uuid"...)
	b = append(b, xmpUUID[:]...)
	return append(b, packet...)
}

// take moves n bytes from br to buf; ok is false when the stream ended first
// (what was read is still moved, so nothing is lost).
func take(br *bufio.Reader, buf *bytes.Buffer, n int) (ok bool, err error) {
	got, err := io.CopyN(buf, br, int64(n))
	if err == io.EOF {
		return false, nil
	}
	return got == int64(n), err
}

func ignoreEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

// Find returns the record embedded in b, whatever the container, when an XMP
// packet with a mediatrail asset id survives in it (also after a re-encode
// that copied the metadata, which may rewrite attributes as elements).
func Find(b []byte) (Record, bool) {
	var r Record
	fields := []*string{&r.AssetID, &r.WorkspaceID, &r.Provider, &r.Model, &r.SpanID, &r.ExecutionID}
	for i, p := range r.properties() {
		*fields[i] = property(b, p[0])
	}
	return r, r.AssetID != "" && r.WorkspaceID != ""
}

// property reads mediatrail:name as an attribute (name="v") or an element
// (<mediatrail:name>v</...>). Prefixes other than "mediatrail" are not
// recognised: tools that rewrite XMP keep the declared prefix.
func property(b []byte, name string) string {
	tag := []byte("mediatrail:" + name)
	for i := bytes.Index(b, tag); i >= 0; {
		rest := b[i+len(tag):]
		var end byte
		switch {
		case bytes.HasPrefix(rest, []byte(`="`)):
			rest, end = rest[2:], '"'
		case bytes.HasPrefix(rest, []byte(`='`)):
			rest, end = rest[2:], '\''
		case bytes.HasPrefix(rest, []byte(">")):
			rest, end = rest[1:], '<'
		default:
			j := bytes.Index(rest, tag)
			if j < 0 {
				return ""
			}
			i += len(tag) + j
			continue
		}
		if k := bytes.IndexByte(rest, end); k >= 0 && k < 4096 {
			return html.UnescapeString(string(rest[:k])) // XML entities are a subset of HTML's
		}
		return ""
	}
	return ""
}
