package mediatrail_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

func TestValidateFileName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"report.pdf", true},
		{"cat picture (1).png", true},
		{"résumé.txt", true},
		{".hidden", true},
		{"", false},
		{".", false},
		{"..", false},
		{"../x", false},
		{"a/b.txt", false},
		{`a\b.txt`, false},
		{"a..b", false},
		{"tab\tname", false},
		{"nul\x00name", false},
		{string([]byte{0xff, 0xfe}), false},
		{strings.Repeat("a", 256), false},
	} {
		err := mediatrail.ValidateFileName(tc.name)
		if got := err == nil; got != tc.ok {
			t.Errorf("ValidateFileName(%q) = %v, want ok=%v", tc.name, err, tc.ok)
		}
		if err != nil && mediatrail.ErrorCode(err) != mediatrail.EINVALID {
			t.Errorf("ValidateFileName(%q) code = %s", tc.name, mediatrail.ErrorCode(err))
		}
	}
}

func TestSafeFileName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"report.pdf", "report.pdf"},
		{"cat picture.png", "cat_picture.png"},
		{"../../etc/passwd", "passwd"},
		{`..\..\boot.ini`, "boot.ini"},
		{"..", "file"},
		{"", "file"},
		{"...env", "env"},
		{`a"b;c.txt`, "a_b_c.txt"},
		{"日本.png", "__.png"},
		{strings.Repeat("a", 300) + ".png", strings.Repeat("a", 196) + ".png"},
	} {
		if got := mediatrail.SafeFileName(tc.in); got != tc.want {
			t.Errorf("SafeFileName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestStorageKeyRoundTrip(t *testing.T) {
	id := mediatrail.NewID()
	key := mediatrail.StorageKeyFor("ws-1", id, "my file.png")
	if want := "workspaces/ws-1/assets/" + id + "/my_file.png"; key != want {
		t.Fatalf("key = %q, want %q", key, want)
	}
	ws, got, ok := mediatrail.ParseStorageKey(key)
	if !ok || ws != "ws-1" || got != id {
		t.Fatalf("ParseStorageKey = %q %q %v", ws, got, ok)
	}
	for _, foreign := range []string{"", "other/ws/assets/" + id + "/f", "workspaces/ws/assets/notanid/f",
		"workspaces/ws/assets/" + id, "workspaces/ws/assets/" + id + "/f/g", "workspaces/a#b/assets/" + id + "/f"} {
		if _, _, ok := mediatrail.ParseStorageKey(foreign); ok {
			t.Errorf("ParseStorageKey(%q) accepted a key we do not own", foreign)
		}
	}
}

func TestValidateSHA256(t *testing.T) {
	good := strings.Repeat("aB", 32)
	if got, err := mediatrail.ValidateSHA256(good); err != nil || got != strings.ToLower(good) {
		t.Fatalf("ValidateSHA256(%q) = %q, %v", good, got, err)
	}
	for _, bad := range []string{"", "abc", strings.Repeat("g", 64), strings.Repeat("a", 65)} {
		if _, err := mediatrail.ValidateSHA256(bad); mediatrail.ErrorCode(err) != mediatrail.EINVALID {
			t.Errorf("ValidateSHA256(%q) err = %v", bad, err)
		}
	}
}

func TestAssetTypeFor(t *testing.T) {
	for ct, want := range map[string]mediatrail.AssetType{
		"image/png": "image", "audio/mpeg": "audio", "video/mp4": "video", "text/plain; charset=utf-8": "text",
		"application/json": "text", "application/pdf": "file", "nonsense": "file",
	} {
		if got := mediatrail.AssetTypeFor(ct); got != want {
			t.Errorf("AssetTypeFor(%q) = %q, want %q", ct, got, want)
		}
	}
}

// Ids sort in the order of their times to the nanosecond, and ids of one
// instant in minting order, across a second's boundaries.
func TestIDOrder(t *testing.T) {
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	var minted []string
	for _, d := range []time.Duration{
		-time.Nanosecond, 0, 0, 0, time.Nanosecond, time.Millisecond, time.Millisecond, 499 * time.Millisecond,
		500 * time.Millisecond, 999 * time.Millisecond, time.Second - 1, time.Second - 1, time.Second,
	} {
		minted = append(minted, mediatrail.NewIDAt(at.Add(d)))
	}
	for i := 1; i < len(minted); i++ {
		if minted[i-1] >= minted[i] {
			t.Errorf("id %d %s does not sort after id %d %s", i, minted[i], i-1, minted[i-1])
		}
	}
	for _, id := range minted[1 : len(minted)-1] {
		if !mediatrail.ValidID(id) || !mediatrail.IDTime(id).Equal(at) {
			t.Errorf("%s: valid %v, time %v; want %v", id, mediatrail.ValidID(id), mediatrail.IDTime(id), at)
		}
	}
}

func TestIDTimeBounds(t *testing.T) {
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	id := mediatrail.NewIDAt(at.Add(300 * time.Millisecond))
	lo, hi := mediatrail.MinIDAt(at), mediatrail.MaxIDAt(at)
	if !(lo <= id && id <= hi) {
		t.Fatalf("%s not within [%s, %s]", id, lo, hi)
	}
	if next := mediatrail.MinIDAt(at.Add(time.Second)); next <= hi {
		t.Fatalf("next second's min %s <= this second's max %s", next, hi)
	}
	if !mediatrail.IDTime(id).Equal(at) {
		t.Fatalf("IDTime = %v, want %v", mediatrail.IDTime(id), at)
	}
	for _, bad := range []string{"", "short", strings.Repeat("z", 27), "../../../../../../etc/passw"} {
		if mediatrail.ValidID(bad) {
			t.Errorf("ValidID(%q) = true", bad)
		}
	}
}

func TestAssetJSONHasSDKAliases(t *testing.T) {
	a := mediatrail.Asset{ID: mediatrail.NewID(), Type: mediatrail.AssetAudio, FileSize: 42,
		CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))}
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got["media_type"] != "audio" || got["size"] != float64(42) || got["file_size"] != float64(42) {
		t.Fatalf("aliases missing: %s", b)
	}
	if got["created_at"] != "2026-01-02T02:04:05Z" {
		t.Fatalf("created_at = %v, want UTC RFC 3339", got["created_at"])
	}
	if md, ok := got["metadata"].(map[string]any); !ok || len(md) != 0 {
		t.Fatalf("metadata = %v, want {}", got["metadata"])
	}
}

func TestLoadConfig(t *testing.T) {
	base := map[string]string{"TABLE_NAME": "t", "STORAGE_BUCKET": "b"}
	env := func(extra map[string]string) func(string) string {
		return func(k string) string {
			if v, ok := extra[k]; ok {
				return v
			}
			return base[k]
		}
	}
	c, err := mediatrail.LoadConfig(env(nil))
	if err != nil || !c.Storage.ForcePathStyle || c.TableName != "t" || c.Storage.Bucket != "b" {
		t.Fatalf("defaults: %+v %v", c, err)
	}
	c, err = mediatrail.LoadConfig(env(map[string]string{"STORAGE_FORCE_PATH_STYLE": "false"}))
	if err != nil || c.Storage.ForcePathStyle {
		t.Fatalf("path style false: %+v %v", c, err)
	}
	if c.Media.Timeout != mediatrail.DefaultMediaTimeout || c.Media.AllowPrivateInputs != nil || c.Media.ProviderSecretID != "" {
		t.Fatalf("media defaults: %+v", c.Media)
	}
	c, err = mediatrail.LoadConfig(env(map[string]string{
		"MEDIA_TIMEOUT": "3s", "MEDIA_ALLOW_PRIVATE_INPUTS": " 127.0.0.1:8080, [::1]:9000 ", "PROVIDER_SECRET_ID": "mediatrail/providers",
	}))
	if err != nil || c.Media.Timeout != 3*time.Second || len(c.Media.AllowPrivateInputs) != 2 ||
		c.Media.AllowPrivateInputs[1].String() != "[::1]:9000" || c.Media.ProviderSecretID != "mediatrail/providers" {
		t.Fatalf("media settings: %+v %v", c.Media, err)
	}
	for name, extra := range map[string]map[string]string{
		"no table":            {"TABLE_NAME": ""},
		"no bucket":           {"STORAGE_BUCKET": ""},
		"bad path style":      {"STORAGE_FORCE_PATH_STYLE": "sometimes"},
		"half a key pair":     {"STORAGE_ACCESS_KEY_ID": "ak"},
		"bad media timeout":   {"MEDIA_TIMEOUT": "soon"},
		"zero media timeout":  {"MEDIA_TIMEOUT": "0s"},
		"private input host":  {"MEDIA_ALLOW_PRIVATE_INPUTS": "localhost:8080"},
		"private input range": {"MEDIA_ALLOW_PRIVATE_INPUTS": "10.0.0.0/8"},
	} {
		if _, err := mediatrail.LoadConfig(env(extra)); mediatrail.ErrorCode(err) != mediatrail.EINVALID {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func TestParseAPIKeys(t *testing.T) {
	got, err := mediatrail.ParseAPIKeys(" k1=ws1, k2 = ws-2 ,")
	if err != nil || len(got) != 2 || got["k1"] != "ws1" || got["k2"] != "ws-2" {
		t.Fatalf("ParseAPIKeys = %v, %v", got, err)
	}
	for _, bad := range []string{"k1", "=ws", "k=", "k=a#b"} {
		if _, err := mediatrail.ParseAPIKeys(bad); err == nil {
			t.Errorf("ParseAPIKeys(%q) accepted", bad)
		}
	}
}

func TestErrorsNeverLeakInternals(t *testing.T) {
	internal := errorString("dial tcp 10.0.0.1:443: secret detail")
	if got := mediatrail.ErrorMessage(internal); strings.Contains(got, "secret") || mediatrail.ErrorCode(internal) != mediatrail.EINTERNAL {
		t.Fatalf("internal error surfaced as %q", got)
	}
	e := mediatrail.Errorf(mediatrail.ENOTFOUND, "asset not found")
	if mediatrail.ErrorMessage(e) != "asset not found" || !mediatrail.IsNotFound(e) {
		t.Fatal("app error lost its message or code")
	}
}

type errorString string

func (e errorString) Error() string { return string(e) }

func TestSecurity_ServedAs(t *testing.T) {
	tests := []struct {
		d        mediatrail.Disposition
		ct       string
		wantD    mediatrail.Disposition
		wantType string
	}{
		{mediatrail.DispositionInline, "image/png", mediatrail.DispositionInline, "image/png"},
		{mediatrail.DispositionInline, "audio/wav", mediatrail.DispositionInline, "audio/wav"},
		{mediatrail.DispositionInline, "video/webm", mediatrail.DispositionInline, "video/webm"},
		{mediatrail.DispositionInline, "text/plain; charset=utf-8", mediatrail.DispositionInline, "text/plain; charset=utf-8"},
		{mediatrail.DispositionInline, "application/json", mediatrail.DispositionInline, "application/json"},
		{"", "image/jpeg", mediatrail.DispositionAttachment, "image/jpeg"},
		{mediatrail.DispositionInline, "text/html", mediatrail.DispositionAttachment, mediatrail.SafeDownloadType},
		{mediatrail.DispositionInline, "image/svg+xml", mediatrail.DispositionAttachment, mediatrail.SafeDownloadType},
		{mediatrail.DispositionInline, "application/xhtml+xml", mediatrail.DispositionAttachment, mediatrail.SafeDownloadType},
		{mediatrail.DispositionInline, "text/xml", mediatrail.DispositionAttachment, mediatrail.SafeDownloadType},
		{mediatrail.DispositionInline, "application/pdf", mediatrail.DispositionAttachment, mediatrail.SafeDownloadType},
		{mediatrail.DispositionInline, "text/javascript", mediatrail.DispositionAttachment, mediatrail.SafeDownloadType},
		{mediatrail.DispositionAttachment, "text/html", mediatrail.DispositionAttachment, mediatrail.SafeDownloadType},
		{mediatrail.DispositionInline, "", mediatrail.DispositionAttachment, mediatrail.SafeDownloadType},
		{mediatrail.DispositionInline, "not a type", mediatrail.DispositionAttachment, mediatrail.SafeDownloadType},
	}
	for _, tt := range tests {
		t.Run(string(tt.d)+" "+tt.ct, func(t *testing.T) {
			d, ct := mediatrail.ServedAs(tt.d, tt.ct)
			if d != tt.wantD || ct != tt.wantType {
				t.Errorf("ServedAs(%q, %q) = %q, %q; want %q, %q", tt.d, tt.ct, d, ct, tt.wantD, tt.wantType)
			}
		})
	}
}

// A filter's type and media_type name asset types, or what a media_type
// (a capability or an alias) makes; in different words they may agree.
func TestParseAssetTypes(t *testing.T) {
	for _, tt := range []struct {
		typ, mediaType string
		want           mediatrail.AssetType
		wantErr        bool
	}{
		{"", "", "", false},
		{"image", "", mediatrail.AssetImage, false},
		{"", "audio", mediatrail.AssetAudio, false},
		{"", "speech", mediatrail.AssetAudio, false},
		{"", "tts", mediatrail.AssetAudio, false},
		{"", "transcription", mediatrail.AssetText, false},
		{"", "stt", mediatrail.AssetText, false},
		{"", "image_edit", mediatrail.AssetImage, false},
		{"", "video_from_img", mediatrail.AssetVideo, false},
		{"audio", "speech", mediatrail.AssetAudio, false},
		{"text", "transcription", mediatrail.AssetText, false},
		{"audio", "video", "", true},
		{"", "music", "", true},
		{"IMAGE", "", "", true},
	} {
		got, err := mediatrail.ParseAssetTypes(tt.typ, tt.mediaType)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseAssetTypes(%q, %q) = %q, %v; want %q (error %v)", tt.typ, tt.mediaType, got, err, tt.want, tt.wantErr)
		}
		if err != nil && mediatrail.ErrorCode(err) != mediatrail.EINVALID {
			t.Errorf("ParseAssetTypes(%q, %q): code %s", tt.typ, tt.mediaType, mediatrail.ErrorCode(err))
		}
	}
}
