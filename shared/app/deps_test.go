package app_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// forbidden are the packages (and their subpackages) a lean function must not
// link: media providers and the image, font and video code they bring, the
// MCP server, SSRF-safe downloads, KMS, Secrets Manager, Step Functions, the
// media path's wiring, and the contract and console (whose YAML parser and
// static site only their own functions need).
var forbidden = []string{
	"github.com/mediatrail/mediatrail/shared/providers",
	"github.com/mediatrail/mediatrail/shared/app/media",
	"github.com/mediatrail/mediatrail/shared/app/static",
	"github.com/mediatrail/mediatrail/shared/mcp",
	"github.com/mediatrail/mediatrail/shared/fetch",
	"github.com/mediatrail/mediatrail/shared/kms",
	"github.com/mediatrail/mediatrail/shared/sfn",
	"github.com/mediatrail/mediatrail/shared/console",
	"github.com/aws/aws-sdk-go-v2/service/sfn",
	"github.com/aws/aws-sdk-go-v2/service/kms",
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager",
	"golang.org/x/image",
	// The standard image decoders: the domain's probe reads sizes from the
	// headers itself so that asset routes do not link them (issue 14).
	"image/png",
	"image/jpeg",
	"image/gif",
	"go.yaml.in/yaml",
	"github.com/modelcontextprotocol",
}

// forbiddenEverywhere are what no function links: the SDK's default
// credential chain (config.LoadDefaultConfig) and the STS, SSO and sign-in
// clients it brings, about 1.9 MB of every bootstrap for credential sources a
// Lambda function never has (app.awsConfig reads the runtime's own).
var forbiddenEverywhere = []string{
	"github.com/aws/aws-sdk-go-v2/config",
	"github.com/aws/aws-sdk-go-v2/service/sts",
	"github.com/aws/aws-sdk-go-v2/service/sso",
	"github.com/aws/aws-sdk-go-v2/service/ssooidc",
	"github.com/aws/aws-sdk-go-v2/service/signin",
	"github.com/aws/aws-sdk-go-v2/credentials/ssocreds",
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds",
}

// leanExceptions are the forbidden packages a lean function may link, with
// the reason: workspace-budget-set reads CALLBACK_SIGNING_SECRET from the
// provider secret, to refuse an alert webhook that could not be signed.
var leanExceptions = map[string][]string{
	"workspace-budget-set": {"github.com/aws/aws-sdk-go-v2/service/secretsmanager"},
}

// lean reports whether functions/<name> is an asset, trace, workspace or
// cleanup function: one that reaches the table and the bucket only.
func lean(name string) bool {
	for _, p := range []string{"asset-", "trace-", "workspace-"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return name == "cleanup"
}

// No function links the SDK's default credential chain, and the asset, trace
// and workspace functions link none of the media path: what
// `go list` resolves for each bootstrap as `make build` builds it
// (linux/arm64, -tags lambda.norpc) holds no forbidden package. A media
// function is the control: it must link a provider, or the check sees nothing.
func TestLeanFunctions(t *testing.T) {
	root := filepath.Join("..", "..")
	cmd := exec.Command(goTool(), "list", "-tags", "lambda.norpc", "-f", "{{.ImportPath}} {{join .Deps \" \"}}", "./functions/...")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const prefix = "github.com/mediatrail/mediatrail/functions/"
	leanSeen, control := 0, false
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		name, deps := strings.TrimPrefix(fields[0], prefix), fields[1:]
		if name == "media-tts" {
			control = linksAny(deps, "github.com/mediatrail/mediatrail/shared/providers") != ""
		}
		for _, f := range forbiddenEverywhere {
			if dep := linksAny(deps, f); dep != "" {
				t.Errorf("functions/%s links %s", name, dep)
			}
		}
		if !lean(name) {
			continue
		}
		leanSeen++
		for _, f := range forbidden {
			if slices.Contains(leanExceptions[name], f) {
				continue
			}
			if dep := linksAny(deps, f); dep != "" {
				t.Errorf("functions/%s links %s", name, dep)
			}
		}
	}
	if leanSeen == 0 || !control {
		t.Fatalf("the check saw %d lean functions, control linked a provider: %v", leanSeen, control)
	}
}

// linksAny is the first of deps that is pkg or under it, or "".
func linksAny(deps []string, pkg string) string {
	for _, d := range deps {
		if d == pkg || strings.HasPrefix(d, pkg+"/") {
			return d
		}
	}
	return ""
}

// goTool is the go command on PATH (runtime.GOROOT is deprecated, and names
// the toolchain that built this binary, not one that is installed); exec
// reports a missing one by this name.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "go"
}
