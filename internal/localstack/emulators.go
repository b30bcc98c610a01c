package localstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// Emulators are the real local implementations of the AWS services we use:
// DynamoDB Local (Java), versitygw (S3) and local-kms (KMS). They are only
// ever addressed on 127.0.0.1.
type Emulators struct {
	DynamoDBURL string
	S3URL       string
	S3AccessKey string
	S3SecretKey string
	// KMSURL is local-kms, seeded with one symmetric key: LocalKMSKeyID.
	KMSURL string
	// Storage is the external S3 service in use (EmulatorOptions.Storage),
	// nil when S3URL is the versitygw these emulators started.
	Storage *mediatrail.StorageConfig

	procs    []*exec.Cmd
	tempDirs []string
	once     sync.Once
}

// EmulatorOptions say where the installed emulators are and where data goes.
type EmulatorOptions struct {
	// CacheDir holds what scripts/setup.sh installed (.cache).
	CacheDir string
	// DataDir keeps data across runs; empty means in-memory / a temporary folder
	// removed on Stop.
	DataDir string
	// DynamoDBURL, when set, is a running DynamoDB to use: only versitygw is
	// started.
	DynamoDBURL string
	// DynamoDBPort, S3Port and KMSPort default to free random ports.
	DynamoDBPort, S3Port, KMSPort int
	// S3WebhookURL, when set, receives versitygw's S3 event records.
	S3WebhookURL string
	// Storage, when its Endpoint is set, is an S3-compatible service to use
	// instead of versitygw, which is then not started: S3Port and
	// S3WebhookURL are unused (such a service notifies the stack of nothing).
	Storage *mediatrail.StorageConfig
	// Log receives the emulators' output (io.Discard when nil).
	Log io.Writer
}

// Local credentials for versitygw's root account. They protect nothing but the
// loopback interface; signed URLs are still verified with them. Functions get
// them as their AWS credentials, which DynamoDB Local also checks: an access
// key of letters and digits only.
const (
	S3AccessKey = "mediatrailLocal"
	S3SecretKey = "mediatrailLocalSecret"
)

// StartEmulators starts DynamoDB Local (unless o.DynamoDBURL names a running
// one), versitygw (unless o.Storage names an S3 service) and local-kms, and
// waits until they answer. On error, whatever started is stopped.
func StartEmulators(ctx context.Context, o EmulatorOptions) (_ *Emulators, err error) {
	if o.Log == nil {
		o.Log = io.Discard
	}
	e := &Emulators{S3AccessKey: S3AccessKey, S3SecretKey: S3SecretKey}
	defer func() {
		if err != nil {
			e.Stop()
		}
	}()
	if o.DynamoDBURL != "" {
		e.DynamoDBURL = o.DynamoDBURL
	} else if err := e.startDynamoDB(o); err != nil {
		return nil, err
	}
	if o.Storage != nil && o.Storage.Endpoint != "" {
		e.Storage = o.Storage
		e.S3URL, e.S3AccessKey, e.S3SecretKey = o.Storage.Endpoint, o.Storage.AccessKeyID, o.Storage.SecretKey
	} else if err := e.startVersitygw(o); err != nil {
		return nil, err
	}
	if err := e.startKMS(o); err != nil {
		return nil, err
	}

	waitCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := waitHTTP(waitCtx, e.DynamoDBURL, func(code int) bool { return code > 0 }); err != nil {
		return nil, fmt.Errorf("DynamoDB Local did not start: %w", err)
	}
	if e.Storage == nil {
		if err := waitHTTP(waitCtx, e.S3URL+"/health", func(code int) bool { return code == http.StatusOK }); err != nil {
			return nil, fmt.Errorf("versitygw did not start: %w", err)
		}
	}
	// local-kms answers any request (400 for one without an action) once up.
	if err := waitHTTP(waitCtx, e.KMSURL, func(code int) bool { return code > 0 }); err != nil {
		return nil, fmt.Errorf("local-kms did not start: %w", err)
	}
	return e, nil
}

// startVersitygw starts versitygw on o.S3Port, its data under o.DataDir/s3
// or a temporary folder.
func (e *Emulators) startVersitygw(o EmulatorOptions) (err error) {
	if o.S3Port == 0 {
		if o.S3Port, err = FreePort(); err != nil {
			return err
		}
	}
	vgw := filepath.Join(o.CacheDir, "bin", "versitygw")
	if _, err := os.Stat(vgw); err != nil {
		return fmt.Errorf("versitygw is not installed in %s: run `make setup`", vgw)
	}
	s3Dir := filepath.Join(o.DataDir, "s3")
	if o.DataDir == "" {
		if s3Dir, err = os.MkdirTemp("", "mediatrail-s3-"); err != nil {
			return err
		}
		e.tempDirs = append(e.tempDirs, s3Dir)
	} else if err := os.MkdirAll(s3Dir, 0o755); err != nil {
		return err
	}
	vgwArgs := []string{"--port", fmt.Sprintf("127.0.0.1:%d", o.S3Port), "--access", S3AccessKey,
		"--secret", S3SecretKey, "--health", "/health",
		// As the template's AssetsBucket CorsRules (AllowedOrigins "*"): browser
		// code such as the console reads signed URLs from another origin.
		"--cors-allow-origin", "*"}
	if o.S3WebhookURL != "" {
		vgwArgs = append(vgwArgs, "--event-webhook-url", o.S3WebhookURL)
	}
	vgwArgs = append(vgwArgs, "posix", s3Dir)
	if err := e.start("", o.Log, vgw, vgwArgs...); err != nil {
		return fmt.Errorf("start versitygw: %w", err)
	}
	e.S3URL = fmt.Sprintf("http://127.0.0.1:%d", o.S3Port)
	return nil
}

// LocalKMSKeyID is the symmetric key local-kms is seeded with: the local
// stand-in of the template's AWS::KMS::Key (Locals.KMSKeyID).
const LocalKMSKeyID = "7d3c6a1e-2f4b-4c8d-9e0a-5b6c7d8e9f10"

// localKMSSeed seeds local-kms with LocalKMSKeyID. Its backing key protects
// nothing but local test data.
const localKMSSeed = `Keys:
  Symmetric:
    Aes:
      - Metadata:
          KeyId: ` + LocalKMSKeyID + `
        BackingKeys:
          - 3f1c9a7e5b2d4068a1c3e5f7092b4d6f8a0c2e4f6b8d0a2c4e6f8b0d2a4c6e8f
`

// startKMS starts local-kms (installed by scripts/setup.sh) seeded with
// LocalKMSKeyID, its data under o.DataDir/kms or a temporary folder. It binds
// every interface (it has no listen-address option); it is only ever
// addressed on loopback.
func (e *Emulators) startKMS(o EmulatorOptions) error {
	bin := filepath.Join(o.CacheDir, "bin", "local-kms")
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("local-kms is not installed in %s: run `make setup`", bin)
	}
	port := o.KMSPort
	if port == 0 {
		var err error
		if port, err = FreePort(); err != nil {
			return err
		}
	}
	dir := filepath.Join(o.DataDir, "kms")
	if o.DataDir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "mediatrail-kms-"); err != nil {
			return err
		}
		e.tempDirs = append(e.tempDirs, dir)
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	seed := filepath.Join(dir, "seed.yaml")
	if err := os.WriteFile(seed, []byte(localKMSSeed), 0o600); err != nil {
		return err
	}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "PORT="+strconv.Itoa(port), "KMS_REGION="+Region, "KMS_ACCOUNT_ID="+AccountID,
		"KMS_DATA_PATH="+filepath.Join(dir, "data"), "KMS_SEED_PATH="+seed)
	cmd.Stdout, cmd.Stderr = o.Log, o.Log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start local-kms: %w", err)
	}
	e.procs = append(e.procs, cmd)
	e.KMSURL = fmt.Sprintf("http://127.0.0.1:%d", port)
	return nil
}

// startDynamoDB starts DynamoDB Local in memory, or persisting under
// o.DataDir/dynamodb.
func (e *Emulators) startDynamoDB(o EmulatorOptions) error {
	port := o.DynamoDBPort
	if port == 0 {
		var err error
		if port, err = FreePort(); err != nil {
			return err
		}
	}
	jarDir := filepath.Join(o.CacheDir, "dynamodb-local", "package", "emulator")
	if _, err := os.Stat(filepath.Join(jarDir, "DynamoDBLocal.jar")); err != nil {
		return fmt.Errorf("DynamoDB Local is not installed in %s: run `make setup`", jarDir)
	}
	args := []string{"-Djava.library.path=./DynamoDBLocal_lib", "-jar", "DynamoDBLocal.jar",
		"-port", strconv.Itoa(port), "-disableTelemetry"}
	if o.DataDir == "" {
		args = append(args, "-inMemory", "-sharedDb")
	} else {
		dir := filepath.Join(o.DataDir, "dynamodb")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		args = append(args, "-sharedDb", "-dbPath", dir)
	}
	// DynamoDB Local binds every interface; it is only ever addressed on loopback.
	if err := e.start(jarDir, o.Log, "java", args...); err != nil {
		return fmt.Errorf("start DynamoDB Local: %w", err)
	}
	e.DynamoDBURL = fmt.Sprintf("http://127.0.0.1:%d", port)
	return nil
}

func (e *Emulators) start(dir string, log io.Writer, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = log, log
	// Own process group, and killed with us if we die first.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return err
	}
	e.procs = append(e.procs, cmd)
	return nil
}

// Stop terminates the emulators (SIGTERM, then SIGKILL after a grace period)
// and removes temporary data. It is safe to call more than once.
func (e *Emulators) Stop() {
	e.once.Do(func() {
		var wg sync.WaitGroup
		for _, p := range e.procs {
			wg.Add(1)
			go func(p *exec.Cmd) {
				defer wg.Done()
				_ = syscall.Kill(-p.Process.Pid, syscall.SIGTERM)
				done := make(chan struct{})
				go func() { _ = p.Wait(); close(done) }()
				select {
				case <-done:
				case <-time.After(5 * time.Second):
					_ = syscall.Kill(-p.Process.Pid, syscall.SIGKILL)
					<-done
				}
			}(p)
		}
		wg.Wait()
		for _, d := range e.tempDirs {
			_ = os.RemoveAll(d)
		}
	})
}

// Env is the environment that points tests (testenv) at these emulators.
func (e *Emulators) Env() []string {
	return []string{
		"MEDIATRAIL_TEST_DYNAMODB_ENDPOINT=" + e.DynamoDBURL,
		"MEDIATRAIL_TEST_S3_ENDPOINT=" + e.S3URL,
		"MEDIATRAIL_TEST_S3_ACCESS_KEY=" + e.S3AccessKey,
		"MEDIATRAIL_TEST_S3_SECRET_KEY=" + e.S3SecretKey,
		"MEDIATRAIL_TEST_KMS_ENDPOINT=" + e.KMSURL,
		"MEDIATRAIL_TEST_KMS_KEY_ID=" + LocalKMSKeyID,
	}
}

// FreePort asks the kernel for a free TCP port on 127.0.0.1.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func waitHTTP(ctx context.Context, url string, ok func(int) bool) error {
	client := &http.Client{Timeout: time.Second}
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if ok(resp.StatusCode) {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			if err == nil {
				err = errors.New("not ready")
			}
			return fmt.Errorf("%s: %w", url, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// ExternalStorage reads from the shell's STORAGE_* variables, named as the
// functions name them, the S3-compatible service a local stack keeps its
// assets in instead of starting versitygw: nil when STORAGE_ENDPOINT is
// unset. Such a service needs STORAGE_BUCKET and both keys; the region
// defaults to Region and path-style addressing to true. STORAGE_PUBLIC_URL
// is not read here: it is the template parameter StoragePublicUrl, which
// applies to either server.
func ExternalStorage(getenv func(string) string) (*mediatrail.StorageConfig, error) {
	v := func(k string) string { return strings.TrimSpace(getenv(k)) }
	if v("STORAGE_ENDPOINT") == "" {
		return nil, nil
	}
	c := &mediatrail.StorageConfig{Endpoint: v("STORAGE_ENDPOINT"), Region: v("STORAGE_REGION"), Bucket: v("STORAGE_BUCKET"),
		AccessKeyID: v("STORAGE_ACCESS_KEY_ID"), SecretKey: v("STORAGE_SECRET_KEY"), ForcePathStyle: true}
	if u, err := url.Parse(c.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("STORAGE_ENDPOINT=%q: want the S3 API's base URL, such as http://127.0.0.1:9000", c.Endpoint)
	}
	if c.Bucket == "" || c.AccessKeyID == "" || c.SecretKey == "" {
		return nil, errors.New("STORAGE_ENDPOINT names an external S3 service: set STORAGE_BUCKET, STORAGE_ACCESS_KEY_ID and STORAGE_SECRET_KEY too")
	}
	if c.Region == "" {
		c.Region = Region
	}
	if s := v("STORAGE_FORCE_PATH_STYLE"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return nil, fmt.Errorf("STORAGE_FORCE_PATH_STYLE=%q: want true or false", s)
		}
		c.ForcePathStyle = b
	}
	return c, nil
}
