package probe_test

import (
	"bytes"
	"errors"
	"io"
	"math"
	"testing"

	"github.com/mediatrail/mediatrail/shared/probe"
)

type inspectCase struct {
	name string
	data []byte
	want probe.Info
}

// runInspect checks Inspect over the whole object; durations within 1e-9 s.
func runInspect(t *testing.T, cases []inspectCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := probe.Inspect(bytes.NewReader(tc.data), int64(len(tc.data)))
			if err != nil {
				t.Fatalf("Inspect: %v", err)
			}
			assertInfo(t, got, tc.want)
		})
	}
}

func assertInfo(t *testing.T, got, want probe.Info) {
	t.Helper()
	if math.Abs(got.DurationSeconds-want.DurationSeconds) < 1e-9 {
		got.DurationSeconds = want.DurationSeconds
	}
	if got != want {
		t.Errorf("Inspect = %+v, want %+v", got, want)
	}
}

func TestInspectImages(t *testing.T) {
	runInspect(t, []inspectCase{
		{"png", MustPNG(t, 37, 21), probe.Info{ContentType: "image/png", Extension: ".png", Width: 37, Height: 21}},
		{"jpeg", MustJPEG(t, 37, 21), probe.Info{ContentType: "image/jpeg", Extension: ".jpg", Width: 37, Height: 21}},
		{"gif", MustGIF(t, 37, 21), probe.Info{ContentType: "image/gif", Extension: ".gif", Width: 37, Height: 21}},
		{"webp lossless", webpVP8L(37, 21), probe.Info{ContentType: "image/webp", Extension: ".webp", Width: 37, Height: 21}},
		{"webp lossless max", webpVP8L(16384, 16384), probe.Info{ContentType: "image/webp", Extension: ".webp", Width: 16384, Height: 16384}},
		{"webp lossy", webpVP8(37, 21), probe.Info{ContentType: "image/webp", Extension: ".webp", Width: 37, Height: 21}},
		{"webp extended", webpVP8X(70000, 21), probe.Info{ContentType: "image/webp", Extension: ".webp", Width: 70000, Height: 21}},
		{"jpeg after a large APP segment", jpegWithApp(t, 60000), probe.Info{ContentType: "image/jpeg", Extension: ".jpg", Width: 37, Height: 21}},
	})
}

// jpegWithApp inserts an APP1 segment of n bytes before the frame header.
func jpegWithApp(t *testing.T, n int) []byte {
	j := MustJPEG(t, 37, 21)
	return cat(j[:2], []byte{0xFF, 0xE1}, be16(uint16(n+2)), zeros(n), j[2:])
}

var wavInfo = probe.Info{ContentType: "audio/wav", Extension: ".wav"}

func withDuration(i probe.Info, seconds float64) probe.Info {
	i.DurationSeconds = seconds
	return i
}

func TestInspectWAV(t *testing.T) {
	runInspect(t, []inspectCase{
		{"mono 8 kHz", wavPCM(1, 8000, 12345, -1), withDuration(wavInfo, 12345.0/8000)},
		{"stereo 44.1 kHz", wavPCM(2, 44100, 3*44100, -1), withDuration(wavInfo, 3)},
		{"streamed, length 0xFFFFFFFF", wavPCM(1, 16000, 8000, 0xFFFFFFFF), withDuration(wavInfo, 0.5)},
		{"streamed, length 0", wavPCM(2, 22050, 22050, 0), withDuration(wavInfo, 1)},
		{"length past the end", wavPCM(1, 8000, 4000, 1<<30), withDuration(wavInfo, 0.5)},
		{"chunks before data, odd sized", riff("WAVE",
			riffChunk("LIST", []byte("INFOISFT\x05\x00\x00\x00probe\x00")),
			fmtChunk(1, 8000, 16),
			riffChunk("fact", le32(8000)),
			riffChunk("junk", zeros(3)),
			riffChunk("data", zeros(16000)),
			riffChunk("LIST", zeros(100)),
		), withDuration(wavInfo, 1)},
		{"data before fmt", riff("WAVE", riffChunk("data", zeros(8000)), fmtChunk(1, 8000, 8)), withDuration(wavInfo, 1)},
		{"byte rate 0 derived from block align", riff("WAVE",
			riffChunk("fmt ", cat(le16(1), le16(2), le32(8000), le32(0), le16(4), le16(16))),
			riffChunk("data", zeros(32000)),
		), withDuration(wavInfo, 1)},
		{"no fmt chunk", riff("WAVE", riffChunk("data", zeros(8000))), wavInfo},
		{"fmt chunk too short", riff("WAVE", riffChunk("fmt ", zeros(8)), riffChunk("data", zeros(8000))), wavInfo},
		{"zero rates", riff("WAVE", riffChunk("fmt ", zeros(16)), riffChunk("data", zeros(8000))), wavInfo},
		{"streamed data before fmt", riff("WAVE", riffChunkLen("data", 0xFFFFFFFF, zeros(8000)), fmtChunk(1, 8000, 8)), wavInfo},
	})
}

var mp3Info = probe.Info{ContentType: "audio/mpeg", Extension: ".mp3"}

func frames(h mp3Header, n int) float64 { return float64(n*h.samples) / float64(h.rate) }

func cbr(h mp3Header, audioBytes int) float64 { return float64(audioBytes) * 8 / float64(h.bitrate) }

func TestInspectMP3(t *testing.T) {
	runInspect(t, []inspectCase{
		{"xing mpeg1 stereo", mp3Stream(mp3V1, 20, xingHeader("Xing", 1000)), withDuration(mp3Info, frames(mp3V1, 1000))},
		{"info (cbr lame tag)", mp3Stream(mp3V1, 20, xingHeader("Info", 77)), withDuration(mp3Info, frames(mp3V1, 77))},
		{"xing mpeg2 mono", mp3Stream(mp3V2, 20, xingHeader("Xing", 500)), withDuration(mp3Info, frames(mp3V2, 500))},
		{"xing mpeg2.5 mono", mp3Stream(mp3V25, 20, xingHeader("Xing", 250)), withDuration(mp3Info, frames(mp3V25, 250))},
		{"vbri", mp3Stream(mp3V1, 20, vbriHeader(321)), withDuration(mp3Info, frames(mp3V1, 321))},
		{"xing without frame count", mp3Stream(mp3V1, 20, cat([]byte("Xing"), be32(0x2), be32(8340))), withDuration(mp3Info, cbr(mp3V1, 20*417))},
		{"cbr", mp3Stream(mp3V1, 50, nil), withDuration(mp3Info, cbr(mp3V1, 50*417))},
		{"id3v2 then xing", cat(id3v2(3000), mp3Stream(mp3V1, 5, xingHeader("Xing", 1000))), withDuration(mp3Info, frames(mp3V1, 1000))},
		{"id3v2 then cbr", cat(id3v2(300), mp3Stream(mp3V2, 40, nil)), withDuration(mp3Info, cbr(mp3V2, 40*208))},
		{"two id3v2 tags", cat(id3v2(200), id3v2(129), mp3Stream(mp3V1, 10, nil)), withDuration(mp3Info, cbr(mp3V1, 10*417))},
		{"cbr with id3v1", cat(mp3Stream(mp3V1, 30, nil), id3v1()), withDuration(mp3Info, cbr(mp3V1, 30*417))},
		{"junk before the first frame", cat(id3v2(10), []byte{0xFF, 0xFB, 0x90, 0x40, 1, 2, 3}, mp3Stream(mp3V1, 10, nil)), withDuration(mp3Info, cbr(mp3V1, 10*417))},
		{"id3v2 without frames", id3v2(4000), mp3Info},
		{"bad syncsafe size", cat([]byte("ID3\x04\x00\x00\x00\x00\x00\x81"), mp3Stream(mp3V1, 3, nil)), mp3Info},
	})
}

var flacInfo = probe.Info{ContentType: "audio/flac", Extension: ".flac"}

func TestInspectFLAC(t *testing.T) {
	runInspect(t, []inspectCase{
		{"44.1 kHz stereo", flacFile(44100, 2, 441000), withDuration(flacInfo, 10)},
		{"96 kHz, 36-bit sample count", flacFile(96000, 1, 1<<35), withDuration(flacInfo, float64(uint64(1)<<35)/96000)},
		{"unknown total", flacFile(48000, 2, 0), flacInfo},
		{"zero rate", flacFile(0, 2, 1000), flacInfo},
	})
}

var oggInfo = probe.Info{ContentType: "audio/ogg", Extension: ".oga"}

func TestInspectOGG(t *testing.T) {
	const opusSerial, otherSerial = 0x0badcafe, 0x12345678
	// An interleaved stream whose last page comes after the audio's.
	interleaved := cat(oggFile(opusSerial, opusHead(312), 10, 312+48000*2), oggPage(0x04, 999999999, otherSerial, 9, []byte("x")))
	// A last page with a bad checksum: the one before it counts.
	badLast := oggFile(opusSerial, opusHead(0), 10, 48000*10)
	badLast[len(badLast)-1] ^= 0xFF
	runInspect(t, []inspectCase{
		{"opus", oggFile(opusSerial, opusHead(312), 5, 312+48000*3+24000), withDuration(oggInfo, 3.5)},
		{"opus over 64 KiB", oggFile(opusSerial, opusHead(3840), 100, 3840+48000*60), withDuration(oggInfo, 60)},
		{"vorbis", oggFile(7, vorbisID(44100), 5, 44100*2), withDuration(oggInfo, 2)},
		{"flac in ogg", oggFile(7, cat([]byte("\x7fFLAC\x01\x00"), be16(1), []byte("fLaC"), []byte{0x80, 0, 0, 34}, streamInfo(32000, 1, 16, 0)), 5, 32000*4), withDuration(oggInfo, 4)},
		{"last page of another stream", interleaved, withDuration(oggInfo, 2)},
		{"bad checksum on the last page", badLast, withDuration(oggInfo, 9)},
		{"granule below pre-skip", oggFile(1, opusHead(312), 3, 100), oggInfo},
		{"no packet ends", cat(oggPage(0x02, 0, 1, 0, opusHead(0)), oggPage(0, -1, 1, 1, zeros(300))), oggInfo},
		{"unknown codec", oggFile(1, []byte("OpusHeaX\x01\x02\x00\x00\x80\xbb\x00\x00\x00\x00\x00"), 3, 100), probe.Info{ContentType: "application/ogg", Extension: ".ogg"}},
	})
}

var mp4Info = probe.Info{ContentType: "video/mp4", Extension: ".mp4"}

func withSize(i probe.Info, w, h int) probe.Info {
	i.Width, i.Height = w, h
	return i
}

func TestInspectMP4(t *testing.T) {
	moov := box("moov", mvhd(0, 1000, 12345), trak("soun", 0, 0, 0), trak("vide", 0, 1280, 720), trak("vide", 0, 640, 360))
	mdat := box("mdat", zeros(5000))
	want := withSize(withDuration(mp4Info, 12.345), 1280, 720)
	runInspect(t, []inspectCase{
		{"moov first", cat(ftyp("isom"), moov, mdat), want},
		{"mdat first", cat(ftyp("isom"), mdat, moov), want},
		{"64-bit mdat size", cat(ftyp("isom"), box64("mdat", zeros(3000)), moov), want},
		{"last box to the end (size 0)", cat(ftyp("isom"), moov, be32(0), []byte("mdat"), zeros(3000)), want},
		{"version 1 boxes", cat(ftyp("isom"), box("moov", mvhd(1, 90000, 90000*3600*30), trak("vide", 1, 3840, 2160)), mdat), withSize(withDuration(mp4Info, 3600*30), 3840, 2160)},
		{"free boxes and udta", cat(ftyp("mp42"), box("free", zeros(100)), box("moov", box("udta", zeros(40)), mvhd(0, 600, 1800), box("trak", hdlr("xxxx")), trak("vide", 0, 37, 21)), mdat), withSize(withDuration(mp4Info, 3), 37, 21)},
		{"audio only (m4a)", cat(ftyp("M4A "), box("moov", mvhd(0, 44100, 44100*7), trak("soun", 0, 0, 0)), mdat), probe.Info{ContentType: "audio/x-m4a", Extension: ".m4a", DurationSeconds: 7}},
		{"quicktime", cat(box("ftyp", []byte("qt  "), be32(0), []byte("qt  ")), box("wide"), mdat, box("moov", mvhd(0, 600, 300), trak("vide", 0, 1920, 1080))), probe.Info{ContentType: "video/quicktime", Extension: ".mov", Width: 1920, Height: 1080, DurationSeconds: 0.5}},
		{"fragmented (mehd)", cat(ftyp("iso6"), box("moov", mvhd(0, 1000, 0), trak("vide", 0, 320, 240), box("mvex", box("mehd", zeros(4), be32(4500)), box("trex", zeros(24)))), box("moof", zeros(20)), mdat), withSize(withDuration(mp4Info, 4.5), 320, 240)},
		{"unknown duration", cat(ftyp("isom"), box("moov", mvhd(0, 1000, 0xFFFFFFFF), trak("vide", 0, 320, 240)), mdat), withSize(mp4Info, 320, 240)},
		{"zero timescale", cat(ftyp("isom"), box("moov", mvhd(0, 0, 1000), trak("vide", 0, 320, 240)), mdat), withSize(mp4Info, 320, 240)},
		{"video track without handler", cat(ftyp("isom"), box("moov", mvhd(0, 1000, 1000), box("trak", tkhd(0, 320, 240))), mdat), withDuration(mp4Info, 1)},
		{"no moov", cat(ftyp("isom"), mdat), mp4Info},
		{"box smaller than its header", cat(ftyp("isom"), be32(4), []byte("free"), moov), mp4Info},
		{"moov past a box claiming the whole file", cat(ftyp("isom"), be32(0xFFFFFFF0), []byte("mdat"), moov), mp4Info},
	})
}

func TestInspectMP4Huge(t *testing.T) {
	// ftyp, a 5 GiB mdat with a 64-bit size, then moov: only headers are read.
	head := cat(ftyp("isom"), be32(1), []byte("mdat"), be64(5<<30))
	moov := box("moov", mvhd(1, 1000, 5*3600*1000), trak("vide", 0, 1920, 1080))
	moovAt := int64(len(head)-16) + 5<<30
	file := sparseFile{size: moovAt + int64(len(moov)), parts: map[int64][]byte{0: head, moovAt: moov}}

	r := &countingReader{r: file}
	got, err := probe.Inspect(r, file.size)
	if err != nil {
		t.Fatalf("Inspect: %v", err)
	}
	assertInfo(t, got, withSize(withDuration(mp4Info, 5*3600), 1920, 1080))
	if r.calls > 3 || r.bytes > probe.HeadBytes+2*64<<10 {
		t.Errorf("read %d bytes in %d calls, want the head and at most two windows", r.bytes, r.calls)
	}
}

// TestInspectManyBoxes: a file of tiny boxes past the head costs a bounded number
// of reads; the moov behind them is given up on.
func TestInspectManyBoxes(t *testing.T) {
	head := cat(ftyp("isom"), box("mdat", zeros(2*probe.HeadBytes)))
	tiny := bytes.Repeat(box("free"), 200_000)
	data := cat(head, tiny, box("moov", mvhd(0, 1000, 1000), trak("vide", 0, 64, 64)))

	r := &countingReader{r: bytes.NewReader(data)}
	got, err := probe.Inspect(r, int64(len(data)))
	if err != nil {
		t.Fatalf("Inspect: %v", err)
	}
	assertInfo(t, got, mp4Info)
	if r.calls > 4 {
		t.Errorf("%d reads, want at most 4", r.calls)
	}
}

var webmInfo = probe.Info{ContentType: "video/webm", Extension: ".webm"}

func TestInspectMatroska(t *testing.T) {
	runInspect(t, []inspectCase{
		{"webm video", cat(ebmlHeader("webm"), ebml(0x18538067,
			ebml(0x114D9B74, zeros(40)), ebml(0xEC, zeros(100)),
			mkvInfo(1_000_000, f64(5000)),
			ebml(0x1654AE6B, mkvTrack(2, 0, 0), mkvTrack(1, 640, 360), mkvTrack(1, 320, 180)),
			mkvCluster())), withSize(withDuration(webmInfo, 5), 640, 360)},
		{"mkv, float32 duration, custom scale, unknown-size segment", cat(ebmlHeader("matroska"), ebmlUnknown(0x18538067,
			mkvInfo(100_000, f32(25)), ebml(0x1654AE6B, mkvTrack(1, 1920, 1080)), mkvCluster())),
			probe.Info{ContentType: "video/matroska", Extension: ".mkv", Width: 1920, Height: 1080, DurationSeconds: 0.0025}},
		{"live recording without duration", cat(ebmlHeader("webm"), ebmlUnknown(0x18538067,
			mkvInfo(1_000_000, nil), ebml(0x1654AE6B, mkvTrack(1, 1280, 720)), ebmlUnknown(0x1F43B675, zeros(100)))), withSize(webmInfo, 1280, 720)},
		{"audio only", cat(ebmlHeader("webm"), ebml(0x18538067, mkvInfo(1_000_000, f64(1500)), ebml(0x1654AE6B, mkvTrack(2, 0, 0)))), withDuration(webmInfo, 1.5)},
		{"tracks after the first cluster are not looked for", cat(ebmlHeader("webm"), ebml(0x18538067,
			mkvInfo(1_000_000, f64(1000)), mkvCluster(), ebml(0x1654AE6B, mkvTrack(1, 1280, 720)))), withDuration(webmInfo, 1)},
		{"negative duration", cat(ebmlHeader("webm"), ebml(0x18538067, mkvInfo(1_000_000, f64(-5)))), webmInfo},
		{"infinite duration", cat(ebmlHeader("webm"), ebml(0x18538067, mkvInfo(math.MaxUint64, f64(math.MaxFloat64)))), webmInfo},
	})
}

func TestInspectOther(t *testing.T) {
	runInspect(t, []inspectCase{
		{"empty", nil, probe.Info{ContentType: "text/plain", Extension: ".txt"}},
		{"text", []byte("hello, world\n"), probe.Info{ContentType: "text/plain; charset=utf-8", Extension: ".txt"}},
		{"binary", []byte{0, 1, 2, 3, 0xFE, 0xFF}, probe.Info{ContentType: "application/octet-stream"}},
		{"pdf", []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"), probe.Info{ContentType: "application/pdf", Extension: ".pdf"}},
	})
}

// TestInspectHeadOnly passes only the first HeadBytes of each object with its
// real size, as the upload path does.
func TestInspectHeadOnly(t *testing.T) {
	bigMP4 := cat(ftyp("isom"), box("mdat", zeros(2*probe.HeadBytes)), box("moov", mvhd(0, 1000, 60000), trak("vide", 0, 640, 480)))
	moovFirst := cat(ftyp("isom"), box("moov", mvhd(0, 1000, 60000), trak("vide", 0, 640, 480)), box("mdat", zeros(2*probe.HeadBytes)))
	bigWAV := wavPCM(2, 48000, 48000*30, 0xFFFFFFFF)
	bigMP3 := cat(id3v2(1000), mp3Stream(mp3V1, 6000, nil))
	bigOGG := oggFile(1, opusHead(0), 2000, 48000*100)
	for _, tc := range []struct {
		name string
		data []byte
		want probe.Info
	}{
		{"mp4 with moov at the end", bigMP4, mp4Info},
		{"mp4 with moov first", moovFirst, withSize(withDuration(mp4Info, 60), 640, 480)},
		{"streamed wav", bigWAV, withDuration(wavInfo, 30)},
		{"cbr mp3", bigMP3, withDuration(mp3Info, cbr(mp3V1, 6000*417))},
		{"ogg", bigOGG, oggInfo},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if len(tc.data) <= probe.HeadBytes {
				t.Fatalf("fixture of %d bytes fits in the head", len(tc.data))
			}
			got, err := probe.Inspect(bytes.NewReader(tc.data[:probe.HeadBytes]), int64(len(tc.data)))
			if err != nil {
				t.Fatalf("Inspect: %v", err)
			}
			assertInfo(t, got, tc.want)
		})
	}
}

// fixtures is every well-formed fixture, for the truncation test and the fuzz corpus.
func fixtures(tb testing.TB) map[string][]byte {
	return map[string][]byte{
		"png":       MustPNG(tb, 37, 21),
		"jpeg":      MustJPEG(tb, 37, 21),
		"gif":       MustGIF(tb, 37, 21),
		"webp-vp8l": webpVP8L(37, 21),
		"webp-vp8x": webpVP8X(37, 21),
		"webp-vp8":  webpVP8(37, 21),
		"wav":       wavPCM(1, 8000, 800, -1),
		"mp3-xing":  cat(id3v2(20), mp3Stream(mp3V1, 3, xingHeader("Xing", 100))),
		"mp3-vbri":  mp3Stream(mp3V2, 3, vbriHeader(100)),
		"mp3-cbr":   cat(mp3Stream(mp3V1, 3, nil), id3v1()),
		"flac":      flacFile(44100, 2, 441000),
		"opus":      oggFile(1, opusHead(312), 3, 48000),
		"vorbis":    oggFile(1, vorbisID(44100), 2, 44100),
		"mp4":       cat(ftyp("isom"), box("moov", mvhd(0, 1000, 1000), trak("vide", 0, 37, 21)), box64("mdat", zeros(100))),
		"mp4-v1":    cat(ftyp("isom"), box("free"), box("moov", mvhd(1, 1000, 1000), trak("vide", 1, 37, 21), box("mvex", box("mehd", []byte{1, 0, 0, 0}, be64(9)))), box("mdat", zeros(100))),
		"webm":      cat(ebmlHeader("webm"), ebml(0x18538067, mkvInfo(1_000_000, f64(1000)), ebml(0x1654AE6B, mkvTrack(1, 37, 21)), mkvCluster())),
	}
}

// TestInspectTruncated cuts every fixture at every length (as the size of the
// object, and as a head of a longer one): nothing may fail or panic, and what
// is reported must stay sane.
func TestInspectTruncated(t *testing.T) {
	for name, data := range fixtures(t) {
		t.Run(name, func(t *testing.T) {
			for n := range len(data) {
				if !truncationPoint(n, len(data)) {
					continue
				}
				for _, size := range []int64{int64(n), int64(len(data)), int64(n) + 1<<40} {
					got, err := probe.Inspect(bytes.NewReader(data[:n]), size)
					if err != nil {
						t.Fatalf("cut at %d, size %d: %v", n, size, err)
					}
					checkSane(t, got)
				}
			}
		})
	}
}

// truncationPoint samples where TestInspectTruncated cuts a fixture of
// length bytes: every point of the first 512 bytes and of the last 32, where
// the headers and trailers the parsers walk are, and a fixed eighth of the
// points between (a multiplicative hash picks them, the same every run).
func truncationPoint(n, length int) bool {
	return n < 512 || n >= length-32 || uint32(n)*2654435761>>29 == 0
}

// TestInspectCorrupt flips bytes of each fixture's header area one at a time.
func TestInspectCorrupt(t *testing.T) {
	for name, data := range fixtures(t) {
		t.Run(name, func(t *testing.T) {
			for i := range min(len(data), 600) {
				for _, v := range []byte{0x00, 0xFF, 0x80, data[i] ^ 0x01} {
					b := bytes.Clone(data)
					b[i] = v
					got, err := probe.Inspect(bytes.NewReader(b), int64(len(b)))
					if err != nil {
						t.Fatalf("byte %d = %#x: %v", i, v, err)
					}
					checkSane(t, got)
				}
			}
		})
	}
}

func checkSane(t testing.TB, got probe.Info) {
	t.Helper()
	d := got.DurationSeconds
	if got.ContentType == "" || math.IsNaN(d) || math.IsInf(d, 0) || d < 0 || got.Width < 0 || got.Height < 0 || (got.Width == 0) != (got.Height == 0) {
		t.Fatalf("insane Info %+v", got)
	}
}

func TestInspectReadError(t *testing.T) {
	errStore := errors.New("connection reset")
	ogg := oggFile(1, opusHead(0), 2000, 48000*10)
	mp4 := cat(ftyp("isom"), box("mdat", zeros(2*probe.HeadBytes)), box("moov", mvhd(0, 1000, 1000)))
	for _, tc := range []struct {
		name string
		data []byte
		from int64
		want probe.Info
	}{
		{"reading the head", MustPNG(t, 37, 21), 0, probe.Info{}},
		{"reading the ogg tail", ogg, int64(len(ogg)) - 10, oggInfo},
		{"reading the moov", mp4, probe.HeadBytes, mp4Info},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := probe.Inspect(failingReader{r: bytes.NewReader(tc.data), from: tc.from, err: errStore}, int64(len(tc.data)))
			if !errors.Is(err, errStore) {
				t.Fatalf("err = %v, want %v", err, errStore)
			}
			assertInfo(t, got, tc.want)
		})
	}
}

// TestInspectShortObject covers a store object shorter than the size claimed:
// the reads come back with io.EOF, which is not an error.
func TestInspectShortObject(t *testing.T) {
	data := wavPCM(1, 8000, 8000, -1)
	got, err := probe.Inspect(io.NewSectionReader(bytes.NewReader(data), 0, 100), int64(len(data)))
	if err != nil {
		t.Fatalf("Inspect: %v", err)
	}
	assertInfo(t, got, withDuration(wavInfo, 1))
}
