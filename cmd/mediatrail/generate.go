package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// mediaCommands are the generate subcommands and the API route of each.
var mediaCommands = []struct {
	use, route, short, example string
	needsInput, job            bool
}{
	{"tts", "tts", "Text to speech (the prompt, or a text input)", `  mediatrail generate tts "Hello from mediatrail." --provider local -o out/`, false, false},
	{"stt", "stt", "Speech to text (prints the transcript)", `  mediatrail generate stt --input speech.wav --provider local`, true, false},
	{"image", "image_gen", "Generate an image", `  mediatrail generate image "A lighthouse at dawn" --provider local --config width=640 --config height=360 -o out/`, false, false},
	{"image-edit", "image_edit", "Edit an image", `  mediatrail generate image-edit "grayscale, rotate 90" --input photo.png --provider local -o out/`, true, false},
	{"video", "video_gen", "Generate a video (a job)", `  mediatrail generate video "Waves at night" --provider local --wait -o out/`, false, true},
	{"video-from-image", "video_from_image", "Animate an image into a video (a job)", `  mediatrail generate video-from-image --input 2bF3hY8wZQmS9vT1uK4nR7pL0aX --provider runway --wait`, true, true},
}

func (c *cli) generateCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "generate",
		Short: "Run a media tool; its output becomes an asset",
		Long: `generate calls a media tool through a provider (openai, elevenlabs, deepgram,
stability, fal, replicate, runway, luma, or local: free, on the server). The prompt is
--prompt or the arguments. --input is an asset id, an http(s) URL, or a local file
(uploaded first). Videos run as jobs: --wait follows the job to its end.`,
	}
	for _, m := range mediaCommands {
		cmd.AddCommand(c.mediaCommand(m.use, m.route, m.short, m.example, m.job))
	}
	return cmd
}

// mediaOptions are the flags of every generate subcommand.
type mediaOptions struct {
	in                mediatrail.GenerateInput
	input, output     string
	config            []string
	configJSON        string
	retention         int
	wait              bool
	timeout, interval time.Duration
}

func (c *cli) mediaCommand(use, route, short, example string, job bool) *cobra.Command {
	var o mediaOptions
	cmd := &cobra.Command{
		Use:     use + " [PROMPT...]",
		Short:   short,
		Example: example,
		Args:    cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				if o.in.Prompt != "" {
					return usagef("give the prompt as --prompt or as arguments, not both")
				}
				o.in.Prompt = strings.Join(args, " ")
			}
			cfg, err := keyValues(o.config)
			if err != nil {
				return usagef("--config: %v", err)
			}
			if o.configJSON != "" {
				if err := json.Unmarshal([]byte(o.configJSON), &cfg); err != nil {
					return usagef("--config-json must be a JSON object")
				}
			}
			o.in.Config = cfg
			if cmd.Flags().Changed("retention") {
				o.in.RetentionDays = &o.retention
			}
			if !job && (o.wait || o.in.CallbackURL != "") {
				return usagef("--wait and --callback-url are for video jobs; %s answers at once", use)
			}
			api, err := c.client()
			if err != nil {
				return err
			}
			if err := c.resolveInput(cmd.Context(), api, o.input, &o.in); err != nil {
				return err
			}
			var out mediatrail.GenerateOutput
			if _, err := api.call(cmd.Context(), "POST", "/api/v1/media/"+route, nil, o.in, &out); err != nil {
				return err
			}
			if out.JobID != "" && o.wait {
				return c.waitJob(cmd.Context(), api, out.JobID, o.timeout, o.interval, o.output)
			}
			if c.structured() {
				return c.printJSON(out)
			}
			if out.JobID != "" {
				fmt.Fprintf(c.stdout, "job %s %s (mediatrail jobs wait %s)\n", out.JobID, out.Status, out.JobID)
				return nil
			}
			fmt.Fprintf(c.stdout, "asset %s\t%s\tcost %s\tspan %s\n", out.AssetID, out.ContentType, money(out.Cost), out.SpanID)
			if out.TextOutput != "" {
				fmt.Fprintln(c.stdout, out.TextOutput)
			}
			return c.saveOutput(cmd.Context(), api, out.AssetID, o.output)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.in.Provider, "provider", "local", "provider")
	fl.StringVar(&o.in.Model, "model", "", "model (default: the provider's)")
	fl.StringVar(&o.in.Prompt, "prompt", "", "prompt (or give it as arguments)")
	fl.StringVar(&o.input, "input", "", "input: an asset id, an http(s) URL or a local file (uploaded first)")
	fl.StringArrayVar(&o.config, "config", nil, "KEY=VALUE provider option (repeatable; VALUE may be JSON)")
	fl.StringVar(&o.configJSON, "config-json", "", "provider options as one JSON object")
	fl.StringVar(&o.in.ExecutionID, "execution", "", "execution id to record")
	fl.StringVar(&o.in.AgentID, "agent", "", "agent id to record")
	fl.StringVar(&o.in.SessionID, "session", "", "session (conversation) id to record; traces filter by it")
	fl.StringVar(&o.in.TraceID, "trace", "", "trace id (default: the execution id)")
	fl.StringVar(&o.in.IdempotencyKey, "idempotency-key", "", "repeat-safe key: a repeat answers the first call's result")
	fl.IntVar(&o.retention, "retention", 0, "keep the output 7, 30, 90 or 365 days, or 0 forever (default: the workspace's)")
	fl.StringVarP(&o.output, "output", "o", "", "download the output into this directory")
	if job {
		fl.StringVar(&o.in.CallbackURL, "callback-url", "", "URL that receives the signed result when the job ends")
		fl.BoolVar(&o.wait, "wait", false, "follow the job to its end (then download with -o)")
		fl.DurationVar(&o.timeout, "timeout", 30*time.Minute, "how long --wait waits")
		fl.DurationVar(&o.interval, "interval", 2*time.Second, "how often --wait asks")
	}
	return cmd
}

// resolveInput sets the input of in from --input: an asset id, a URL, or a
// local file uploaded first.
func (c *cli) resolveInput(ctx context.Context, api *client, input string, in *mediatrail.GenerateInput) error {
	switch {
	case input == "":
		return nil
	case strings.HasPrefix(input, "http://") || strings.HasPrefix(input, "https://"):
		in.InputURL = input
		return nil
	case mediatrail.ValidID(input):
		if _, err := os.Stat(input); err != nil {
			in.InputAssetID = input
			return nil
		}
	}
	a, err := c.upload(ctx, api, input, mediatrail.RegisterInput{ExecutionID: in.ExecutionID, AgentID: in.AgentID}, io.Discard)
	if err != nil {
		return fmt.Errorf("upload %s: %w", input, err)
	}
	in.InputAssetID = a.ID
	return nil
}

// saveOutput downloads asset id into dir when dir is set.
func (c *cli) saveOutput(ctx context.Context, api *client, id, dir string) error {
	if dir == "" || id == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	a, err := getAsset(ctx, api, id)
	if err != nil {
		return err
	}
	bar := c.bar(a.FileSize, "downloading")
	defer bar.Finish()
	path, err := c.download(ctx, api, a, dir, bar)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "saved %s\n", path)
	return nil
}

// money writes an amount in dollars with four decimals.
func money(v float64) string { return fmt.Sprintf("$%.4f", v) }

// jsonOrString is v decoded when it is JSON, else v itself.
func jsonOrString(v string) any {
	var decoded any
	if err := json.Unmarshal([]byte(v), &decoded); err == nil {
		return decoded
	}
	return v
}

// query builds url.Values of the non-empty pairs (name, value, ...).
func query(pairs ...string) url.Values {
	q := url.Values{}
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] != "" {
			q.Set(pairs[i], pairs[i+1])
		}
	}
	return q
}
