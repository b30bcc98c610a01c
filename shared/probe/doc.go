// Package probe learns what a stored media file is (content type, dimensions,
// duration) from its bytes, without decoding it.
//
// Every parser reads bounded amounts at a time through an io.ReaderAt, so the
// same code works on a whole stored object (reads anywhere are answered) and on
// the head kept while streaming an upload (reads past the head come back short
// and the field they would have answered stays zero). Parsers are hand-written,
// check every length and allocate no more than fixed bounds, whatever sizes a
// file claims: the bytes come from providers and users, not from us.
package probe
