package main

import (
	"bufio"
	"cmp"
	"fmt"
	"net/url"
	"strings"

	"github.com/spf13/cobra"
)

func (c *cli) loginCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "login",
		Short: "Save the API URL and key in the profile file",
		Long: `login checks the API URL and key against the API, then saves them as a profile
("default", or --profile) in the config file, readable by you only. The key is read
from --api-key, MEDIATRAIL_API_KEY, or else one line of standard input.`,
		Example: `  mediatrail login --url http://127.0.0.1:3000 --api-key "$KEY"
  echo "$KEY" | mediatrail login --url https://abc123.execute-api.eu-west-1.amazonaws.com --profile prod`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			base, key := cmp.Or(c.url, c.getenv(envURL)), cmp.Or(c.apiKey, c.getenv(envAPIKey))
			if base == "" {
				return usagef("login needs --url (or %s)", envURL)
			}
			if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return usagef("--url must be an http(s) URL such as http://127.0.0.1:3000")
			}
			if key == "" {
				fmt.Fprint(c.stderr, "API key: ")
				line, _ := bufio.NewReader(c.stdin).ReadString('\n')
				if key = strings.TrimSpace(line); key == "" {
					return usagef("no API key given")
				}
			}
			c.url, c.apiKey = base, key
			api, err := c.client()
			if err != nil {
				return err
			}
			var assets []map[string]any
			if _, err := api.call(cmd.Context(), "GET", "/api/v1/assets", url.Values{"limit": {"1"}}, nil, &assets); err != nil {
				return fmt.Errorf("the key was not accepted: %w", err)
			}
			path, err := configPath(c.getenv)
			if err != nil {
				return err
			}
			cfg, err := readConfig(path)
			if err != nil {
				return err
			}
			if cfg.Profiles == nil {
				cfg.Profiles = map[string]profile{}
			}
			cfg.Profiles[c.profile()] = profile{URL: api.base, APIKey: key}
			if err := writeConfig(path, cfg); err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "Saved profile %q (%s) in %s\n", c.profile(), api.base, path)
			return nil
		},
	}
}
