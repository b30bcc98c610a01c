package localstack

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
)

// Tools locates what scripts/setup.sh installs into the cache and the
// project's Node scripts (tools/node).
type Tools struct {
	// Root is the repository root; CacheDir defaults to Root/.cache.
	Root, CacheDir string
}

func (t Tools) cache() string {
	if t.CacheDir != "" {
		return t.CacheDir
	}
	return filepath.Join(t.Root, ".cache")
}

// RIE is the aws-lambda-rie executable.
func (t Tools) RIE() string { return filepath.Join(t.cache(), "bin", "aws-lambda-rie") }

// NodeModules is where `npm ci` installed tools/node's packages.
func (t Tools) NodeModules() string { return filepath.Join(t.cache(), "node", "node_modules") }

// CheckRIE reports, with the remedy, why the RIE runtime cannot run.
func (t Tools) CheckRIE() error {
	if _, err := os.Stat(t.RIE()); err != nil {
		return fmt.Errorf("aws-lambda-rie is not installed in %s: run `make setup`", t.RIE())
	}
	return nil
}

// CheckNode reports, with the remedy, why state machines cannot run.
func (t Tools) CheckNode() error {
	if _, err := exec.LookPath("node"); err != nil {
		return fmt.Errorf("node is not on PATH: install Node.js 20+")
	}
	for _, pkg := range []string{"aws-local-stepfunctions", "asl-validator"} {
		if _, err := os.Stat(filepath.Join(t.NodeModules(), pkg, "package.json")); err != nil {
			return fmt.Errorf("%s is not installed in %s: run `make setup`", pkg, t.NodeModules())
		}
	}
	return nil
}

// StepFunctionsHost is the Node process that runs state machines, with the
// Promise.withResolvers polyfill preloaded for Node 20, calling the Lambda
// Invoke API at lambdaEndpoint.
func (t Tools) StepFunctionsHost(lambdaEndpoint, region string, log io.Writer) NodeHost {
	node, err := exec.LookPath("node")
	if err != nil {
		node = "node"
	}
	scripts := filepath.Join(t.Root, "tools", "node")
	return NodeHost{
		Node: node,
		Args: []string{"-r", filepath.Join(scripts, "polyfill.cjs"), filepath.Join(scripts, "sfn-host.cjs")},
		Env:  nodeEnv(t.NodeModules(), lambdaEndpoint, region),
		Log:  log,
	}
}

// ValidateASL runs asl-validator on each named definition (name → JSON) and
// returns an error quoting the validator's report when one is invalid.
func (t Tools) ValidateASL(ctx context.Context, defs map[string][]byte) error {
	if len(defs) == 0 {
		return nil
	}
	if err := t.CheckNode(); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "asl-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	names := make([]string, 0, len(defs))
	for n := range defs {
		names = append(names, n)
	}
	sort.Strings(names)
	var args []string
	for i, n := range names {
		f := filepath.Join(dir, fmt.Sprintf("%02d-%s.json", i, filepath.Base(n)))
		if err := os.WriteFile(f, defs[n], 0o644); err != nil {
			return err
		}
		args = append(args, "--json-path", f)
	}
	cmd := exec.CommandContext(ctx, filepath.Join(t.NodeModules(), ".bin", "asl-validator"), args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("asl-validator: %w\n%s", err, out.Bytes())
	}
	return nil
}
