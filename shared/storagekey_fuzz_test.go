package mediatrail_test

import (
	"strings"
	"testing"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// FuzzParseStorageKey: ParseStorageKey inverts StorageKeyFor for every file
// name, and accepts a key only when it has exactly that shape, so an S3
// event for a foreign key never names an asset.
func FuzzParseStorageKey(f *testing.F) {
	id := mediatrail.NewIDAt(time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC))
	for _, s := range [][2]string{
		{"ws-1", "report.pdf"}, {"ws_2", "../../x"}, {"a", `a\b/c`}, {"ws", ""}, {"ws", "..."}, {"w s", "f"}, {"ws", "名前.png"},
	} {
		f.Add(s[0], s[1], "workspaces/"+s[0]+"/assets/"+id+"/"+s[1])
	}
	f.Fuzz(func(t *testing.T, ws, name, key string) {
		if gotWS, gotID, ok := mediatrail.ParseStorageKey(key); ok {
			if !strings.HasPrefix(key, "workspaces/"+gotWS+"/assets/"+gotID+"/") || !mediatrail.ValidRef(gotWS) || !mediatrail.ValidID(gotID) {
				t.Fatalf("key %q parsed as %q, %q", key, gotWS, gotID)
			}
		}
		if !mediatrail.ValidRef(ws) {
			return
		}
		key = mediatrail.StorageKeyFor(ws, id, name)
		gotWS, gotID, ok := mediatrail.ParseStorageKey(key)
		if !ok || gotWS != ws || gotID != id {
			t.Fatalf("StorageKeyFor(%q, %q, %q) = %q parses as %q, %q, %v", ws, id, name, key, gotWS, gotID, ok)
		}
	})
}
