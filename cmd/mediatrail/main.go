// Command mediatrail is the command line client of the mediatrail API, for
// people and scripts: list, upload, download and remove assets, run media
// tools, follow video jobs, show an execution's spans and costs.
//
//	go install github.com/mediatrail/mediatrail/cmd/mediatrail@latest
//	mediatrail login --url http://127.0.0.1:3000
//	mediatrail assets upload speech.wav notes.txt --execution run-1
//
// Exit codes: 0 success, 1 failure (the API's error code and message are
// printed), 2 usage error.
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], env{
		stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv,
		http: http.DefaultClient, progress: term.IsTerminal(int(os.Stderr.Fd())),
	})
	stop()
	os.Exit(code)
}

// env is what a run of the CLI reads and writes; tests pass their own.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	http           *http.Client
	// progress shows progress bars on stderr (a terminal).
	progress bool
}

// usageError is a command line mistake: exit code 2.
type usageError struct{ error }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// run executes one command line and returns its exit code.
func run(ctx context.Context, args []string, e env) int {
	c := &cli{env: e}
	root := c.rootCommand()
	root.SetArgs(args)
	root.SetIn(e.stdin)
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(e.stderr, "mediatrail: "+err.Error())
	var u usageError
	// cobra reports unknown commands as plain errors.
	if errors.As(err, &u) || strings.HasPrefix(err.Error(), "unknown command") {
		fmt.Fprintln(e.stderr, "Run 'mediatrail --help' for usage.")
		return exitUsage
	}
	return exitFailure
}

// cli holds the global flags and the connection they select.
type cli struct {
	env
	url, apiKey, profileName string
	jsonOut, jsonlOut, quiet bool
}

func (c *cli) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "mediatrail",
		Short: "Media assets for AI agents, from the command line",
		Long: `mediatrail lists, uploads, downloads and removes the assets of a workspace, runs
media tools (text to speech, speech to text, images, video), follows video jobs and
shows what an agent execution made and what it cost.

The API and key come from --url and --api-key, else MEDIATRAIL_URL and
MEDIATRAIL_API_KEY, else the profile saved by 'mediatrail login' (profile
"default", or --profile / MEDIATRAIL_PROFILE) in ~/.config/mediatrail/config.toml
(MEDIATRAIL_CONFIG to use another file).

Exit codes: 0 success, 1 failure (the API's error code and message are printed),
2 usage error.`,
		Example: `  mediatrail login --url http://127.0.0.1:3000
  mediatrail assets upload speech.wav notes.txt --execution run-1
  mediatrail assets ls --execution run-1
  mediatrail assets download 2bF3hY8wZQmS9vT1uK4nR7pL0aX -o out/
  mediatrail generate image "A lighthouse at dawn" --provider local -o out/
  mediatrail runs show run-1`,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	pf := root.PersistentFlags()
	pf.StringVar(&c.url, "url", "", "API base URL, e.g. http://127.0.0.1:3000 (env "+envURL+")")
	pf.StringVar(&c.apiKey, "api-key", "", "API key (env "+envAPIKey+")")
	pf.StringVar(&c.profileName, "profile", "", `profile of the config file (env `+envProfile+`, default "default")`)
	pf.BoolVar(&c.jsonOut, "json", false, "print the API's data as JSON")
	pf.BoolVar(&c.jsonlOut, "jsonl", false, "print one JSON object per line (lists)")
	pf.BoolVarP(&c.quiet, "quiet", "q", false, "no progress bars")
	root.MarkFlagsMutuallyExclusive("json", "jsonl")
	root.AddCommand(c.loginCommand(), c.assetsCommand(), c.generateCommand(), c.jobsCommand(), c.runsCommand(), c.usageCommand())
	for _, cmd := range root.Commands() {
		wrapArgs(cmd)
	}
	return root
}

// wrapArgs makes argument count errors usage errors, in cmd and below.
func wrapArgs(cmd *cobra.Command) {
	if check := cmd.Args; check != nil {
		cmd.Args = func(cmd *cobra.Command, args []string) error {
			if err := check(cmd, args); err != nil {
				return usageError{err}
			}
			return nil
		}
	}
	for _, sub := range cmd.Commands() {
		wrapArgs(sub)
	}
}

// profileName is the selected profile.
func (c *cli) profile() string {
	if c.profileName != "" {
		return c.profileName
	}
	if p := c.getenv(envProfile); p != "" {
		return p
	}
	return "default"
}

// client connects with the flags, else the environment, else the profile.
func (c *cli) client() (*client, error) {
	url, key := c.url, c.apiKey
	if url == "" {
		url = c.getenv(envURL)
	}
	if key == "" {
		key = c.getenv(envAPIKey)
	}
	if url == "" || key == "" {
		path, err := configPath(c.getenv)
		if err != nil {
			return nil, err
		}
		cfg, err := readConfig(path)
		if err != nil {
			return nil, err
		}
		p := cfg.Profiles[c.profile()]
		url, key = cmp.Or(url, p.URL), cmp.Or(key, p.APIKey)
	}
	if url == "" || key == "" {
		return nil, usagef("no API URL or key: run 'mediatrail login', or set %s and %s (or --url and --api-key)", envURL, envAPIKey)
	}
	return &client{base: strings.TrimSuffix(strings.TrimRight(url, "/"), "/api/v1"), key: key, http: c.http}, nil
}

// printJSON writes v indented (--json) or compact (--jsonl, one line).
func (c *cli) printJSON(v any) error {
	enc := json.NewEncoder(c.stdout)
	if !c.jsonlOut {
		enc.SetIndent("", "  ")
	}
	return enc.Encode(v)
}

// structured reports whether the output is JSON rather than text.
func (c *cli) structured() bool { return c.jsonOut || c.jsonlOut }
