package localstack_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/mediatrail/mediatrail/internal/localstack"
	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/testenv"
)

func TestExternalStorageFromEnvironment(t *testing.T) {
	full := map[string]string{"STORAGE_ENDPOINT": "http://127.0.0.1:9000", "STORAGE_BUCKET": "assets",
		"STORAGE_ACCESS_KEY_ID": "ak", "STORAGE_SECRET_KEY": "sk"}
	with := func(k, v string) map[string]string {
		m := map[string]string{k: v}
		for key, val := range full {
			if key != k {
				m[key] = val
			}
		}
		return m
	}
	for _, tc := range []struct {
		name    string
		env     map[string]string
		want    *mediatrail.StorageConfig
		wantErr string
	}{
		{"no endpoint: the local versitygw", map[string]string{"STORAGE_BUCKET": "assets", "STORAGE_PUBLIC_URL": "http://cdn"}, nil, ""},
		{"defaults", full, &mediatrail.StorageConfig{Endpoint: "http://127.0.0.1:9000", Region: localstack.Region, Bucket: "assets",
			AccessKeyID: "ak", SecretKey: "sk", ForcePathStyle: true}, ""},
		{"region and virtual hosts", with("STORAGE_REGION", "auto"), &mediatrail.StorageConfig{Endpoint: "http://127.0.0.1:9000",
			Region: "auto", Bucket: "assets", AccessKeyID: "ak", SecretKey: "sk", ForcePathStyle: true}, ""},
		{"virtual hosts", with("STORAGE_FORCE_PATH_STYLE", "false"), &mediatrail.StorageConfig{Endpoint: "http://127.0.0.1:9000",
			Region: localstack.Region, Bucket: "assets", AccessKeyID: "ak", SecretKey: "sk"}, ""},
		{"no bucket", with("STORAGE_BUCKET", ""), nil, "STORAGE_BUCKET"},
		{"no secret key", with("STORAGE_SECRET_KEY", ""), nil, "STORAGE_SECRET_KEY"},
		{"not a URL", with("STORAGE_ENDPOINT", "127.0.0.1:9000"), nil, "STORAGE_ENDPOINT"},
		{"bad path style", with("STORAGE_FORCE_PATH_STYLE", "maybe"), nil, "STORAGE_FORCE_PATH_STYLE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := localstack.ExternalStorage(func(k string) string { return tc.env[k] })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (got == nil) != (tc.want == nil) || (got != nil && *got != *tc.want) {
				t.Errorf("ExternalStorage = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// externalS3 starts a versitygw of its own, with keys of its own, as the
// S3-compatible service a deployment names (R2, MinIO...); it stops when the
// test ends. It returns its endpoint and a client for it.
func externalS3(t *testing.T, accessKey, secretKey string) (string, *awss3.Client) {
	t.Helper()
	bin := filepath.Join(repoRoot(), ".cache", "bin", "versitygw")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("versitygw is not installed (%v): run `make setup`", err)
	}
	port, err := localstack.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--port", fmt.Sprintf("127.0.0.1:%d", port), "--access", accessKey, "--secret", secretKey,
		"--health", "/health", "posix", t.TempDir())
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	ctx, cancel := context.WithTimeout(testenv.Context(t), 30*time.Second)
	defer cancel()
	for {
		resp, err := http.Get(url + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("external versitygw did not start: %v", err)
		case <-time.After(20 * time.Millisecond): // readiness poll, as the stack's own wait
		}
	}
	client := awss3.New(awss3.Options{Region: localstack.Region, BaseEndpoint: aws.String(url), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(accessKey, secretKey, "")})
	return url, client
}

// With STORAGE_ENDPOINT (make run passes it as Options.Storage) the stack
// starts no S3 server: functions keep assets in the given bucket of the
// given service with its keys, and signed URLs name STORAGE_PUBLIC_URL.
func TestStackOnExternalStorage(t *testing.T) {
	const ak, sk = "externalKey", "externalSecret"
	endpoint, client := externalS3(t, ak, sk)
	bucket := testenv.UniqueName("external")
	if _, err := client.CreateBucket(testenv.Context(t), &awss3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	unusedS3Port, err := localstack.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	// The same server by another name, as a CDN or tunnel would be.
	public := strings.Replace(endpoint, "127.0.0.1", "localhost", 1)
	s := startStack(t, localstack.Options{
		Runtime: localstack.RuntimeInProcess, DynamoDBURL: testenv.Endpoint(t, testenv.EnvDynamoDB), APIKeys: apiKeys,
		S3Port:     unusedS3Port,
		Storage:    &mediatrail.StorageConfig{Endpoint: endpoint, Region: localstack.Region, Bucket: bucket, AccessKeyID: ak, SecretKey: sk, ForcePathStyle: true},
		Parameters: map[string]string{"StoragePublicUrl": public},
	})
	if s.Config.S3URL != endpoint || s.Bucket != bucket {
		t.Fatalf("stack storage %s bucket %s, want %s bucket %s", s.Config.S3URL, s.Bucket, endpoint, bucket)
	}
	if conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", unusedS3Port)); err == nil {
		conn.Close()
		t.Errorf("something listens on the local S3 port %d: the stack started an S3 server", unusedS3Port)
	}

	e := &env{Stack: s, bucket: bucket, s3: client}
	body := []byte("kept on the external service")
	a := e.upload(t, keyA, "note.txt", "text/plain", body)
	if !e.objectExists(t, a.StorageKey) {
		t.Fatalf("asset %s is not in bucket %s of the external service", a.StorageKey, bucket)
	}
	u := signedURL(t, e, keyA, a.ID, "")
	if !strings.HasPrefix(u, public+"/") {
		t.Errorf("signed URL %s does not start with STORAGE_PUBLIC_URL %s", u, public)
	}
	if code, _, got := fetch(t, u); code != http.StatusOK || !bytes.Equal(got, body) {
		t.Errorf("GET signed URL: %d %q", code, got)
	}
}

// The local versitygw listens on the port it is given (PORT+1 for make
// run, StablePorts), so a signed link printed before a restart on the same
// data still works after it.
func TestSignedLinkSurvivesRestartOnStablePort(t *testing.T) {
	port, err := localstack.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	o := localstack.EmulatorOptions{CacheDir: filepath.Join(repoRoot(), ".cache"), DataDir: t.TempDir(),
		DynamoDBURL: testenv.Endpoint(t, testenv.EnvDynamoDB), S3Port: port}
	start := func() *localstack.Emulators {
		e, err := localstack.StartEmulators(testenv.Context(t), o)
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("http://127.0.0.1:%d", port); e.S3URL != want {
			t.Fatalf("S3 at %s, want %s", e.S3URL, want)
		}
		return e
	}
	e := start()
	client := awss3.New(awss3.Options{Region: localstack.Region, BaseEndpoint: aws.String(e.S3URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(e.S3AccessKey, e.S3SecretKey, "")})
	ctx := testenv.Context(t)
	bucket, key := "stable", "link.txt"
	if _, err := client.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.PutObject(ctx, &awss3.PutObjectInput{Bucket: &bucket, Key: &key, Body: strings.NewReader("still here")}); err != nil {
		t.Fatal(err)
	}
	link, err := awss3.NewPresignClient(client).PresignGetObject(ctx, &awss3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		t.Fatal(err)
	}
	e.Stop()
	e = start()
	defer e.Stop()
	if code, _, body := fetch(t, link.URL); code != http.StatusOK || string(body) != "still here" {
		t.Errorf("link after restart: %d %q", code, body)
	}
}
