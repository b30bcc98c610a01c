// Command localstack runs mediatrail on one machine.
//
//	localstack run                 emulators + API on 127.0.0.1:$PORT (default 3000), data in .data/
//	localstack exec -- CMD ARGS    emulators on random ports, CMD run with their endpoints in its env
//	                               (how `make test` runs the tests), emulators stopped afterwards
//
// Everything it starts is stopped on Ctrl-C/SIGTERM.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/localstack"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	code := 0
	switch os.Args[1] {
	case "run":
		err = run(ctx)
	case "exec":
		code, err = execCmd(ctx, os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "localstack:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: localstack run | localstack exec -- CMD [ARGS...]")
	os.Exit(2)
}

func root() string {
	dir, _ := os.Getwd()
	for d := dir; d != filepath.Dir(d); d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "template.yaml")); err == nil {
			return d
		}
	}
	return dir
}

func emulatorLog(dir string) (io.WriteCloser, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return os.OpenFile(filepath.Join(dir, "emulators.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
}

func run(ctx context.Context) error {
	started := time.Now()
	r := root()
	data := filepath.Join(r, ".data")
	logf, err := emulatorLog(data)
	if err != nil {
		return err
	}
	defer logf.Close()
	em, err := localstack.StartEmulators(ctx, localstack.EmulatorOptions{
		CacheDir: filepath.Join(r, ".cache"), DataDir: data, Log: logf,
	})
	if err != nil {
		return err
	}
	defer em.Stop()

	keys, demoKey, err := apiKeys(data)
	if err != nil {
		return err
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "3000"
	}
	api, err := localstack.ServeAPI(ctx, localstack.Config{
		Root: r, DynamoDBURL: em.DynamoDBURL, S3URL: em.S3URL, S3AccessKey: em.S3AccessKey, S3SecretKey: em.S3SecretKey,
		Table: localstack.DefaultTable, Bucket: localstack.DefaultBucket, Addr: "127.0.0.1:" + port, APIKeys: keys,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, nil)),
	})
	if err != nil {
		return err
	}
	fmt.Printf("mediatrail is up in %s\n", time.Since(started).Round(time.Millisecond))
	fmt.Printf("  API:       %s/api/v1\n", api.URL)
	fmt.Printf("  DynamoDB:  %s   S3: %s   (emulator log: .data/emulators.log)\n", em.DynamoDBURL, em.S3URL)
	if demoKey != "" {
		fmt.Printf("  demo key:  %s   (workspace demo; set API_KEYS=key=workspace,... to use your own)\n", demoKey)
	} else {
		fmt.Printf("  API keys:  %d from API_KEYS\n", len(keys))
	}
	fmt.Printf("  try:       curl -H 'X-API-Key: %s' %s/api/v1/assets\n", firstKey(keys, demoKey), api.URL)
	fmt.Println("Ctrl-C stops everything.")
	<-ctx.Done()
	fmt.Println("\nstopping...")
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return api.Close(shut)
}

func firstKey(keys map[string]string, demo string) string {
	if demo != "" {
		return demo
	}
	for k := range keys {
		return k
	}
	return ""
}

// apiKeys reads API_KEYS; when unset it returns a demo key for workspace "demo",
// kept in .data so that it survives restarts.
func apiKeys(data string) (map[string]string, string, error) {
	if v := strings.TrimSpace(os.Getenv("API_KEYS")); v != "" {
		keys, err := mediatrail.ParseAPIKeys(v)
		return keys, "", err
	}
	path := filepath.Join(data, "demo-key")
	b, err := os.ReadFile(path)
	key := strings.TrimSpace(string(b))
	if errors.Is(err, os.ErrNotExist) || key == "" {
		key = mediatrail.NewAPIKey()
		if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
			return nil, "", err
		}
	} else if err != nil {
		return nil, "", err
	}
	return map[string]string{key: "demo"}, key, nil
}

// execCmd runs args with the emulators' endpoints in its environment and
// returns its exit code.
func execCmd(ctx context.Context, args []string) (int, error) {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		usage()
	}
	r := root()
	logf, err := emulatorLog(filepath.Join(r, ".cache"))
	if err != nil {
		return 0, err
	}
	defer logf.Close()
	started := time.Now()
	em, err := localstack.StartEmulators(ctx, localstack.EmulatorOptions{CacheDir: filepath.Join(r, ".cache"), Log: logf})
	if err != nil {
		return 0, err
	}
	defer em.Stop()
	fmt.Fprintf(os.Stderr, "localstack: emulators ready in %s (DynamoDB %s, S3 %s)\n",
		time.Since(started).Round(time.Millisecond), em.DynamoDBURL, em.S3URL)
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), em.Env()...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	err = cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), nil
	}
	return 0, err
}
