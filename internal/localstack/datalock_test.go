package localstack_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/mediatrail/mediatrail/internal/localstack"
)

// A second stack on the same data folder fails at once, before it starts
// anything, naming the holder; once the first stops, the folder is free.
func TestDataDirIsLocked(t *testing.T) {
	data := t.TempDir()
	ctx := context.Background()
	held, err := localstack.LockDataDir(data)
	if err != nil {
		t.Fatal(err)
	}
	_, err = localstack.Start(ctx, localstack.Options{Root: repoRoot(), DataDir: data})
	if !errors.Is(err, localstack.ErrDataDirInUse) || !strings.Contains(err.Error(), "pid "+strconv.Itoa(os.Getpid())) {
		t.Fatalf("second stack: %v; want ErrDataDirInUse naming pid %d", err, os.Getpid())
	}
	for _, sub := range []string{"dynamodb", "s3", "kms"} {
		if _, err := os.Stat(filepath.Join(data, sub)); err == nil {
			t.Errorf("the refused stack created %s", sub)
		}
	}
	if err := held.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := localstack.LockDataDir(data)
	if err != nil {
		t.Fatalf("after the holder stopped: %v", err)
	}
	again.Close()
}

func TestStablePorts(t *testing.T) {
	for _, tc := range []struct {
		port        string
		gateway, s3 int
		wantErr     bool
	}{
		{"", 3000, 3001, false},
		{"8080", 8080, 8081, false},
		{" 4000 ", 4000, 4001, false},
		{"0", 0, 0, false},
		{"-1", 0, 0, true},
		{"65535", 0, 0, true},
		{"http", 0, 0, true},
	} {
		g, s, err := localstack.StablePorts(func(string) string { return tc.port })
		if (err != nil) != tc.wantErr || g != tc.gateway || s != tc.s3 {
			t.Errorf("PORT=%q: %d, %d, %v; want %d, %d, error %v", tc.port, g, s, err, tc.gateway, tc.s3, tc.wantErr)
		}
	}
}
