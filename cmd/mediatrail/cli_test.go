package main

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/testenv"
)

// writeFile writes n random bytes (or text) into dir/name and returns the path.
func writeFile(t *testing.T, dir, name string, content []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, content, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// uploaded maps file path → asset id from upload's output lines.
func uploaded(t *testing.T, out string) map[string]string {
	t.Helper()
	ids := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		id, path, ok := strings.Cut(line, "\t")
		if !ok || !mediatrail.ValidID(id) {
			t.Fatalf("upload output line %q", line)
		}
		ids[path] = id
	}
	return ids
}

// listed decodes `assets ls --json`.
func listed(t *testing.T, r result) []mediatrail.Asset {
	t.Helper()
	var assets []mediatrail.Asset
	if err := json.Unmarshal([]byte(r.stdout), &assets); err != nil {
		t.Fatalf("ls --json: %v: %s", err, r.stdout)
	}
	return assets
}

// The everyday round trip: files go up in parallel with their sniffed type,
// are listed, come back byte for byte, and are removed.
func TestUploadListDownloadRemove(t *testing.T) {
	s := newStack(t, nil)
	src, dst := t.TempDir(), t.TempDir()
	files := map[string][]byte{
		writeFile(t, src, "notes.txt", []byte("hello from the cli\n")):                           []byte("hello from the cli\n"),
		writeFile(t, src, "blob.bin", append([]byte("MTBLOB\x00\x01"), randomBytes(300<<10)...)): nil,
		writeFile(t, src, "empty.dat", nil):                                                      {},
	}
	for p, b := range files {
		if b == nil {
			files[p], _ = os.ReadFile(p)
		}
	}
	var paths []string
	for p := range files {
		paths = append(paths, p)
	}
	ids := uploaded(t, s.mt(t, runOptions{}, append([]string{"assets", "upload", "--execution", "run-1", "--parallel", "3"}, paths...)...).want(t, 0).stdout)

	assets := listed(t, s.mt(t, runOptions{}, "assets", "ls", "--execution", "run-1", "--json").want(t, 0))
	if len(assets) != len(files) {
		t.Fatalf("listed %d assets, want %d", len(assets), len(files))
	}
	types := map[string]string{}
	for _, a := range assets {
		types[a.FileName] = a.ContentType
	}
	if !strings.HasPrefix(types["notes.txt"], "text/plain") || types["blob.bin"] != "application/octet-stream" {
		t.Errorf("sniffed types %v", types)
	}
	table := s.mt(t, runOptions{}, "assets", "ls", "--execution", "run-1").want(t, 0).stdout
	if !strings.HasPrefix(table, "ID ") || !strings.Contains(table, ids[paths[0]]) {
		t.Errorf("table:\n%s", table)
	}

	args := []string{"assets", "download", "-o", dst}
	for _, id := range ids {
		args = append(args, id)
	}
	s.mt(t, runOptions{}, args...).want(t, 0)
	for p, want := range files {
		got, err := os.ReadFile(filepath.Join(dst, filepath.Base(p)))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: downloaded %d bytes, want %d (%v)", filepath.Base(p), len(got), len(want), err)
		}
	}
	if parts, _ := filepath.Glob(filepath.Join(dst, "*.part")); len(parts) > 0 {
		t.Errorf("left behind: %v", parts)
	}

	id := ids[paths[0]]
	s.mt(t, runOptions{}, "assets", "rm", id).want(t, 0)
	r := s.mt(t, runOptions{}, "assets", "get", id).want(t, 1)
	if !strings.Contains(r.stderr, "not_found: asset not found") {
		t.Errorf("get after rm: %s", r.stderr)
	}
	if n := len(listed(t, s.mt(t, runOptions{}, "assets", "ls", "--execution", "run-1", "--json"))); n != len(files)-1 {
		t.Errorf("after rm: %d listed", n)
	}

	// The same file again is stored once; get says so.
	again := uploaded(t, s.mt(t, runOptions{}, "assets", "upload", "--execution", "run-2", paths[1]).want(t, 0).stdout)[paths[1]]
	for id, want := range map[string]string{again: "true", ids[paths[1]]: "false"} {
		out := s.mt(t, runOptions{}, "assets", "get", id).want(t, 0).stdout
		if !strings.Contains(strings.Join(strings.Fields(out), " "), "deduplicated "+want) {
			t.Errorf("get %s: want deduplicated %s:\n%s", id, want, out)
		}
	}
}

// A download cut off half-way leaves NAME.part; the next run asks storage
// for the rest only (Range) and ends with the exact bytes. A partial file
// that does not match is discarded by the sha256 check, never kept.
func TestInterruptedDownloadResumes(t *testing.T) {
	s := newStack(t, nil)
	const size, cut = 1 << 20, 300 << 10
	content := randomBytes(size)
	id := uploaded(t, s.mt(t, runOptions{}, "assets", "upload", writeFile(t, t.TempDir(), "movie.bin", content)).want(t, 0).stdout)
	var assetID string
	for _, v := range id {
		assetID = v
	}
	dst := t.TempDir()
	r := s.mt(t, runOptions{storage: cutAfter(cut)}, "assets", "download", assetID, "-o", dst).want(t, 1)
	if !strings.Contains(r.stderr, "run again to resume") {
		t.Errorf("interrupted: %s", r.stderr)
	}
	part := filepath.Join(dst, "movie.bin.part")
	if st, err := os.Stat(part); err != nil || st.Size() != cut {
		t.Fatalf("partial file: %v %v", st, err)
	}
	if _, err := os.Stat(filepath.Join(dst, "movie.bin")); err == nil {
		t.Fatal("an incomplete download was kept under its name")
	}

	var fetched atomic.Int64
	var ranges []string
	s.mt(t, runOptions{storage: counting(&fetched, &ranges)}, "assets", "download", assetID, "-o", dst).want(t, 0)
	got, _ := os.ReadFile(filepath.Join(dst, "movie.bin"))
	if !bytes.Equal(got, content) {
		t.Fatalf("resumed download differs (%d bytes)", len(got))
	}
	if fetched.Load() != size-cut || len(ranges) != 1 || ranges[0] != "bytes=307200-" {
		t.Errorf("resume fetched %d bytes with ranges %q, want %d with bytes=307200-", fetched.Load(), ranges, size-cut)
	}

	// A corrupt partial file: the rest is fetched, the whole fails its sha256.
	dst = t.TempDir()
	corrupt := bytes.Clone(content[:cut])
	corrupt[0] ^= 0xff
	writeFile(t, dst, "movie.bin.part", corrupt)
	r = s.mt(t, runOptions{}, "assets", "download", assetID, "-o", dst).want(t, 1)
	if !strings.Contains(r.stderr, "does not match") {
		t.Errorf("corrupt resume: %s", r.stderr)
	}
	if left, _ := filepath.Glob(filepath.Join(dst, "*")); len(left) != 0 {
		t.Errorf("kept after a checksum mismatch: %v", left)
	}
}

// cleanup shows the batch first and removes nothing until confirmed; --yes
// removes every match and only the matches.
func TestCleanupDryRunThenReal(t *testing.T) {
	s := newStack(t, nil)
	dir := t.TempDir()
	var doomed, kept []string
	for i, name := range []string{"a.txt", "b.txt", "c.txt"} {
		doomed = append(doomed, writeFile(t, dir, name, []byte(strings.Repeat("x", i+1))))
	}
	kept = append(kept, writeFile(t, dir, "keep.txt", []byte("keep")))
	s.mt(t, runOptions{}, append([]string{"assets", "upload", "--execution", "old"}, doomed...)...).want(t, 0)
	s.mt(t, runOptions{}, append([]string{"assets", "upload", "--execution", "new"}, kept...)...).want(t, 0)
	count := func() int { return len(listed(t, s.mt(t, runOptions{}, "assets", "ls", "--json"))) }

	r := s.mt(t, runOptions{}, "assets", "cleanup", "--execution", "old", "--dry-run").want(t, 0)
	if !strings.Contains(r.stdout, "3 assets would be removed") || !strings.Contains(r.stdout, "a.txt") {
		t.Errorf("dry run:\n%s", r.stdout)
	}
	if n := count(); n != 4 {
		t.Fatalf("a dry run removed something: %d left", n)
	}
	r = s.mt(t, runOptions{stdin: "n\n"}, "assets", "cleanup", "--execution", "old").want(t, 1)
	if !strings.Contains(r.stderr, "nothing was removed") || count() != 4 {
		t.Fatalf("declined cleanup: %s", r.stderr)
	}
	s.mt(t, runOptions{}, "assets", "cleanup").want(t, 2) // no filter
	r = s.mt(t, runOptions{stdin: "y\n"}, "assets", "cleanup", "--execution", "old").want(t, 0)
	if !strings.Contains(r.stdout, "Removed 3 assets") {
		t.Errorf("cleanup: %s", r.stdout)
	}
	left := listed(t, s.mt(t, runOptions{}, "assets", "ls", "--json"))
	if len(left) != 1 || left[0].FileName != "keep.txt" {
		t.Errorf("left %+v", left)
	}
}

// login checks the key, saves it readable by its owner only, and later runs
// use it; a wrong key is refused and nothing is saved.
func TestLoginSavesAProfile(t *testing.T) {
	s := newStack(t, nil)
	config := filepath.Join(t.TempDir(), "mt", "config.toml")
	bare := runOptions{env: map[string]string{envURL: "", envAPIKey: "", envConfig: config}}
	r := s.mt(t, bare, "login", "--url", s.URL, "--api-key", "wrong").want(t, 1)
	if !strings.Contains(r.stderr, "unauthenticated") {
		t.Errorf("wrong key: %s", r.stderr)
	}
	if _, err := os.Stat(config); err == nil {
		t.Fatal("a refused key was saved")
	}
	s.mt(t, runOptions{stdin: s.key + "\n", env: bare.env}, "login", "--url", s.URL+"/api/v1/").want(t, 0)
	st, err := os.Stat(config)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("config file: %v %v", st, err)
	}
	s.mt(t, bare, "assets", "ls").want(t, 0)
	s.mt(t, bare, "--profile", "other", "assets", "ls").want(t, 2)
}

// generate stores a real image (provider local), downloads it, and the
// execution's tree and usage show its span, cost and asset.
func TestGenerateThenRunsAndUsage(t *testing.T) {
	s := newStack(t, nil)
	dst := t.TempDir()
	r := s.mt(t, runOptions{}, "generate", "image", "A", "lighthouse", "--provider", "local", "--execution", "run-7", "--session", "chat-7",
		"--config", "width=64", "--config", "height=48", "-o", dst).want(t, 0)
	var id string
	if f := strings.Fields(r.stdout); len(f) > 1 && f[0] == "asset" {
		id = f[1]
	}
	if !mediatrail.ValidID(id) {
		t.Fatalf("generate output: %s", r.stdout)
	}
	if files, _ := filepath.Glob(filepath.Join(dst, "*.png")); len(files) != 1 {
		t.Errorf("downloaded: %v", files)
	}
	tree := s.mt(t, runOptions{}, "runs", "show", "run-7").want(t, 0).stdout
	for _, want := range []string{"execution run-7  1 spans", "trace run-7", "media.image_gen", "local/procedural-v1", id, s.URL + "/api/v1/assets/" + id} {
		if !strings.Contains(tree, want) {
			t.Errorf("runs show lacks %q:\n%s", want, tree)
		}
	}
	usage := s.mt(t, runOptions{}, "usage", "--execution", "run-7").want(t, 0).stdout
	if !strings.Contains(usage, "provider local") || !strings.Contains(usage, "media type image_gen") {
		t.Errorf("usage:\n%s", usage)
	}
	// The call's session is recorded: its usage has the call, another's none.
	if usage := s.mt(t, runOptions{}, "usage", "--session", "chat-7").want(t, 0).stdout; !strings.Contains(usage, "provider local") {
		t.Errorf("usage of the session:\n%s", usage)
	}
	if usage := s.mt(t, runOptions{}, "usage", "--session", "chat-8").want(t, 0).stdout; strings.Contains(usage, "provider local") {
		t.Errorf("usage of another session:\n%s", usage)
	}
	r = s.mt(t, runOptions{}, "generate", "image", "--provider", "nope", "x").want(t, 1)
	if !strings.Contains(r.stderr, "validation_error:") {
		t.Errorf("unknown provider: %s", r.stderr)
	}
	s.mt(t, runOptions{}, "jobs", "get", "not-an-id").want(t, 1)
	if out := s.mt(t, runOptions{}, "jobs", "ls", "--json").want(t, 0).stdout; strings.TrimSpace(out) != "[]" {
		t.Errorf("jobs ls: %s", out)
	}
	if r := s.mt(t, runOptions{}, "jobs", "ls", "--status", "sleeping").want(t, 1); !strings.Contains(r.stderr, "validation_error: status must be") {
		t.Errorf("jobs ls --status sleeping: %s", r.stderr)
	}
}

// A file above the single-PUT limit (lowered here to 1 MiB) goes up in
// 5 MiB parts, is assembled and verified by the API, comes back byte for
// byte, and leaves no unfinished upload behind.
func TestMultipartUpload(t *testing.T) {
	s := newStack(t, map[string]string{"UPLOAD_MULTIPART_THRESHOLD": "1048576", "UPLOAD_PART_SIZE": "5242880"})
	content := randomBytes(11<<20 + 7)
	ids := uploaded(t, s.mt(t, runOptions{}, "assets", "upload", writeFile(t, t.TempDir(), "big.bin", content)).want(t, 0).stdout)
	var id string
	for _, v := range ids {
		id = v
	}
	dst := t.TempDir()
	s.mt(t, runOptions{}, "assets", "download", id, "-o", dst).want(t, 0)
	if got, _ := os.ReadFile(filepath.Join(dst, "big.bin")); !bytes.Equal(got, content) {
		t.Fatalf("downloaded %d bytes, want %d", len(got), len(content))
	}
	_, s3c := testenv.S3(t)
	out, err := s3c.ListMultipartUploads(testenv.Context(t), &awss3.ListMultipartUploadsInput{Bucket: aws.String(s.Bucket)})
	if err != nil || len(out.Uploads) != 0 {
		t.Errorf("unfinished uploads: %v %v", out, err)
	}
}
