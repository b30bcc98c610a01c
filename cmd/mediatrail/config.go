package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/BurntSushi/toml"
)

// Environment variables the CLI reads.
const (
	envURL     = "MEDIATRAIL_URL"
	envAPIKey  = "MEDIATRAIL_API_KEY"
	envProfile = "MEDIATRAIL_PROFILE"
	envConfig  = "MEDIATRAIL_CONFIG"
)

// profile is one API endpoint and key, as `mediatrail login` saves it.
type profile struct {
	URL    string `toml:"url"`
	APIKey string `toml:"api_key"`
}

// configFile is the profile file: [profiles.<name>] tables.
type configFile struct {
	Profiles map[string]profile `toml:"profiles"`
}

// configPath is $MEDIATRAIL_CONFIG, else config.toml in the user's config
// directory (~/.config/mediatrail/config.toml on Linux).
func configPath(getenv func(string) string) (string, error) {
	if p := getenv(envConfig); p != "" {
		return p, nil
	}
	dir := getenv("XDG_CONFIG_HOME")
	if dir == "" {
		var err error
		if dir, err = os.UserConfigDir(); err != nil {
			return "", fmt.Errorf("no config directory (set %s): %w", envConfig, err)
		}
	}
	return filepath.Join(dir, "mediatrail", "config.toml"), nil
}

// readConfig reads the profile file; a missing file is an empty one.
func readConfig(path string) (configFile, error) {
	var c configFile
	_, err := toml.DecodeFile(path, &c)
	if errors.Is(err, fs.ErrNotExist) {
		return configFile{}, nil
	}
	if err != nil {
		return c, fmt.Errorf("read %s: %w", path, err)
	}
	return c, nil
}

// writeConfig saves the profile file readable by its owner only: it holds keys.
func writeConfig(path string, c configFile) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if err := toml.NewEncoder(f).Encode(c); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
