package main

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// Every command explains itself: help exits 0 and shows a summary, usage and
// (for commands that act) an example; usage mistakes exit 2 and say why.
func TestHelp(t *testing.T) {
	none := func(string) string { return "" }
	var walk func(path []string, cmd *cobra.Command)
	walk = func(path []string, cmd *cobra.Command) {
		t.Run(strings.Join(path, " "), func(t *testing.T) {
			r := runCLI(t, "", none, http.DefaultClient, append(path[1:], "--help")...).want(t, 0)
			summary := cmd.Long
			if summary == "" {
				summary = cmd.Short
			}
			if !strings.Contains(r.stdout, "Usage:") || !strings.Contains(r.stdout, summary) {
				t.Errorf("help:\n%s", r.stdout)
			}
			if cmd.Runnable() && !slices.Contains(path, "completion") && !strings.Contains(r.stdout, "Examples:") {
				t.Errorf("no example:\n%s", r.stdout)
			}
		})
		for _, sub := range cmd.Commands() {
			if !sub.Hidden && sub.Name() != "help" {
				walk(append(path, sub.Name()), sub)
			}
		}
	}
	root := (&cli{}).rootCommand()
	walk([]string{"mediatrail"}, root)
	for _, c := range root.Commands() {
		if c.Short == "" {
			t.Errorf("%s has no summary", c.Name())
		}
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"nope"}, `unknown command "nope"`},
		{[]string{"assets", "get"}, "accepts 1 arg(s)"},
		{[]string{"assets", "ls", "--bogus"}, "unknown flag: --bogus"},
		{[]string{"assets", "ls"}, "no API URL or key"},
		{[]string{"generate", "image", "--wait", "x"}, "unknown flag: --wait"},
		{[]string{"login"}, "login needs --url"},
	} {
		r := runCLI(t, "", none, http.DefaultClient, tc.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want 2 and %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
	r := runCLI(t, "", none, http.DefaultClient, "completion", "bash").want(t, 0)
	if !strings.Contains(r.stdout, "__start_mediatrail") {
		t.Errorf("bash completion: %.200s", r.stdout)
	}
}
