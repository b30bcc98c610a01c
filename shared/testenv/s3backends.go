package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// S3Feature is a part of the S3 API that not every S3-compatible server
// implements.
type S3Feature string

// The features some of the suite's servers lack (README "Storage backends").
const (
	// S3EventWebhook: the server POSTs S3 event records to a URL (neither
	// implements PutBucketNotificationConfiguration).
	S3EventWebhook S3Feature = "event webhook"
	// S3LifecycleAPI: PutBucketLifecycleConfiguration with tag filters, as
	// the template's retention rules use.
	S3LifecycleAPI S3Feature = "bucket lifecycle API"
)

// S3Backend is one real S3-compatible server the storage adapter's suite
// runs against.
type S3Backend struct {
	Name string
	S3Config
	// Lacks maps each feature the server does not implement to how it
	// answers; tests that need one check it here.
	Lacks map[S3Feature]string
}

// Client is a path-style client with the backend's root credentials.
func (b S3Backend) Client() *s3.Client {
	cfg := aws.Config{Region: b.Region, Credentials: credentials.NewStaticCredentialsProvider(b.AccessKey, b.SecretKey, "")}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(b.Endpoint)
		o.UsePathStyle = true
	})
}

// S3Backends are the S3 servers of the storage suite: versitygw, which `make
// test` starts, and the SeaweedFS S3 gateway, which this test binary starts
// on first use (StopS3Backends stops it). Two independent implementations:
// what passes on both relies on S3, not on one server's leniency.
func S3Backends(tb testing.TB) []S3Backend {
	tb.Helper()
	c, _ := S3(tb)
	vgw := S3Backend{Name: "versitygw", S3Config: c, Lacks: map[S3Feature]string{
		S3LifecycleAPI: "it answers 501 NotImplemented",
	}}
	weed.once.Do(func() { weed.backend, weed.err = startSeaweedFS() })
	if weed.err != nil {
		tb.Fatalf("SeaweedFS: %v", weed.err)
	}
	return []S3Backend{vgw, weed.backend}
}

// ForEachS3Backend runs test as a subtest per backend, named after it.
func ForEachS3Backend(t *testing.T, test func(t *testing.T, b S3Backend)) {
	t.Helper()
	for _, b := range S3Backends(t) {
		t.Run(b.Name, func(t *testing.T) { test(t, b) })
	}
}

// StopS3Backends stops the servers this binary started; call it from TestMain.
func StopS3Backends() {
	weed.mu.Lock()
	defer weed.mu.Unlock()
	if weed.stop != nil {
		weed.stop()
		weed.stop = nil
	}
}

var weed struct {
	once    sync.Once
	backend S3Backend
	err     error
	mu      sync.Mutex
	stop    func()
}

// SeaweedFS root credentials: they protect nothing but the loopback interface.
const (
	weedAccessKey = "mediatrailWeed"
	weedSecretKey = "mediatrailWeedSecret"
)

// weedIdentities makes the gateway check SigV4 (without an identity it
// serves anonymous requests).
const weedIdentities = `{"identities":[{"name":"root","credentials":[{"accessKey":"` + weedAccessKey +
	`","secretKey":"` + weedSecretKey + `"}],"actions":["Admin","Read","List","Tagging","Write"]}]}`

// weedBinary is the weed that scripts/setup.sh installs.
func weedBinary() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", ".cache", "bin", "weed")
}

// errPortTaken says a port freePorts chose was taken before weed bound it.
var errPortTaken = errors.New("a chosen port was taken before weed bound it")

// startSeaweedFS runs `weed mini` (master, volume server, filer and S3
// gateway in one process) on free loopback ports, with a temporary data
// folder, telemetry and the extra gateways off, and returns once it stores
// objects. A port is free when chosen but may be taken by another process
// (a client's ephemeral port) before weed binds it: then it starts again on
// other ports, up to three times.
func startSeaweedFS() (b S3Backend, err error) {
	for range 3 {
		if b, err = startSeaweedFSOnce(); !errors.Is(err, errPortTaken) {
			break
		}
	}
	return b, err
}

func startSeaweedFSOnce() (S3Backend, error) {
	bin := weedBinary()
	if _, err := os.Stat(bin); err != nil {
		return S3Backend{}, fmt.Errorf("weed is not installed in %s: run `make setup`", bin)
	}
	dir, err := os.MkdirTemp("", "mediatrail-weed-")
	if err != nil {
		return S3Backend{}, err
	}
	conf := filepath.Join(dir, "s3.json")
	if err := os.WriteFile(conf, []byte(weedIdentities), 0o600); err != nil {
		return S3Backend{}, err
	}
	ports, err := freePorts(8)
	if err != nil {
		return S3Backend{}, err
	}
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return S3Backend{}, err
	}
	args := []string{"mini", "-dir=" + data, "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
		"-master.telemetry=false", "-webdav=false", "-admin.ui=false", "-admin.port.legacy=0",
		"-s3.port.iceberg=0", "-s3.port.lance=0", "-s3.config=" + conf,
		"-master.port=" + ports[0], "-master.port.grpc=" + ports[1],
		"-volume.port=" + ports[2], "-volume.port.grpc=" + ports[3],
		"-filer.port=" + ports[4], "-filer.port.grpc=" + ports[5],
		"-s3.port=" + ports[6], "-s3.port.grpc=" + ports[7],
	}
	log, err := os.Create(filepath.Join(dir, "weed.log"))
	if err != nil {
		return S3Backend{}, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return S3Backend{}, err
	}
	stop := func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		log.Close()
		_ = os.RemoveAll(dir)
	}
	b := S3Backend{
		Name:     "seaweedfs",
		S3Config: S3Config{Endpoint: "http://127.0.0.1:" + ports[6], AccessKey: weedAccessKey, SecretKey: weedSecretKey, Region: Region},
		Lacks: map[S3Feature]string{
			S3EventWebhook: "it publishes filer metadata events, not S3 event records",
		},
	}
	if err := waitStores(b.Client(), log.Name()); err != nil {
		out, _ := os.ReadFile(log.Name())
		stop()
		return S3Backend{}, fmt.Errorf("weed mini did not become ready: %w\n%s", err, tail(out, 3000))
	}
	weed.mu.Lock()
	weed.stop = stop
	weed.mu.Unlock()
	return b, nil
}

// waitStores polls until the server stores and deletes an object: the S3
// gateway answers before the volume server has joined the master. It
// answers errPortTaken as soon as the server's log (logPath) says a port was
// in use: weed then never becomes ready.
func waitStores(client *s3.Client, logPath string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	bucket, key := "ready-probe", "probe"
	var err error
	for {
		if _, err = client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err == nil || strings.Contains(err.Error(), "BucketAlreadyOwnedByYou") {
			if _, err = client.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: strings.NewReader("ok")}); err == nil {
				_, _ = client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: &key})
				_, _ = client.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: &bucket})
				return nil
			}
		}
		if out, _ := os.ReadFile(logPath); strings.Contains(string(out), "address already in use") {
			return errPortTaken
		}
		select {
		case <-ctx.Done():
			return errors.Join(ctx.Err(), err)
		case <-time.After(100 * time.Millisecond): // readiness poll
		}
	}
}

// freePorts returns n distinct free loopback ports, all held until every
// one is chosen.
func freePorts(n int) ([]string, error) {
	var ports []string
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports = append(ports, strconv.Itoa(l.Addr().(*net.TCPAddr).Port))
	}
	return ports, nil
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
