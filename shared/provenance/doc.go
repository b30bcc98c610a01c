// Package provenance embeds provenance metadata (an XMP packet naming the
// asset, workspace, provider, model, span and execution, with the IPTC
// DigitalSourceType of AI-generated media) into generated media while it
// streams into storage, and finds it again in bytes read back.
//
// The standard library decodes PNG and JPEG but cannot write metadata into
// them, and the maintained Go container libraries found either rewrite whole
// files in memory or do not stream; the three insertions needed here are a
// few dozen lines over the container framing, so they are written here:
//
//   - PNG: an uncompressed iTXt chunk "XML:com.adobe.xmp" before the first IDAT.
//   - JPEG: an APP1 XMP segment after SOI (and after APP0/JFIF when present).
//   - MP4/ISO BMFF: a top-level uuid box (BE7ACFCB-97A9-42E8-9C71-999491E3AFAC)
//     appended at the end of the stream, so no chunk offset (stco/co64) moves.
//
// Everything else streams through unchanged. Only the part of a file before
// the insertion point is held in memory, and it is bounded by MaxPrefixBytes.
package provenance
