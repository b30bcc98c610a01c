package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

func (c *cli) jobsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "jobs",
		Short: "Follow and cancel video jobs",
		Long:  "Video calls run as jobs: ls lists them, get shows one, wait follows it to its end, cancel stops it.",
	}
	var timeout, interval time.Duration
	var output string
	wait := &cobra.Command{
		Use:     "wait JOB_ID",
		Short:   "Wait for a job to end (then download its video with -o)",
		Example: `  mediatrail jobs wait 2bF3hY8wZQmS9vT1uK4nR7pL0aX -o out/`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := c.client()
			if err != nil {
				return err
			}
			return c.waitJob(cmd.Context(), api, args[0], timeout, interval, output)
		},
	}
	wait.Flags().DurationVar(&timeout, "timeout", 30*time.Minute, "how long to wait")
	wait.Flags().DurationVar(&interval, "interval", 2*time.Second, "how often to ask")
	wait.Flags().StringVarP(&output, "output", "o", "", "download the video into this directory")
	cmd.AddCommand(c.jobsListCommand())
	cmd.AddCommand(c.jobCommand("get", "Show a job", "GET", ""), c.jobCommand("cancel", "Cancel a job (at its provider too, when it can)", "POST", "/cancel"), wait)
	return cmd
}

// jobCommand reads (get) or changes (cancel) one job.
func (c *cli) jobCommand(use, short, method, suffix string) *cobra.Command {
	return &cobra.Command{
		Use:     use + " JOB_ID",
		Short:   short,
		Example: "  mediatrail jobs " + use + " 2bF3hY8wZQmS9vT1uK4nR7pL0aX",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := c.client()
			if err != nil {
				return err
			}
			var j mediatrail.JobView
			if _, err := api.call(cmd.Context(), method, "/api/v1/media/jobs/"+url.PathEscape(args[0])+suffix, nil, nil, &j); err != nil {
				return err
			}
			return c.printJob(&j)
		},
	}
}

func (c *cli) printJob(j *mediatrail.JobView) error {
	if c.structured() {
		return c.printJSON(j)
	}
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	rows := [][2]string{{"id", j.ID}, {"status", string(j.Status)}, {"media_type", string(j.MediaType)},
		{"provider", j.Provider + "/" + j.Model}, {"progress", fmt.Sprintf("%.0f%%", 100*j.Progress)}, {"cost", money(j.Cost)},
		{"created_at", j.CreatedAt.UTC().Format(time.RFC3339)}}
	if j.AssetID != "" {
		rows = append(rows, [2]string{"asset_id", j.AssetID})
	}
	if j.Error != nil {
		rows = append(rows, [2]string{"error", j.Error.Code + ": " + j.Error.Message})
	}
	if j.Message != "" {
		rows = append(rows, [2]string{"message", j.Message})
	}
	for _, r := range rows {
		fmt.Fprintf(w, "%s\t%s\n", r[0], r[1])
	}
	return w.Flush()
}

// waitJob polls a job until it ends, showing its progress; a completed job's
// video is downloaded into dir when set. A failed or cancelled job is an error.
func (c *cli) waitJob(ctx context.Context, api *client, id string, timeout, interval time.Duration, dir string) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	bar := c.bar(100, "job "+id)
	defer bar.Finish()
	for {
		var j mediatrail.JobView
		if _, err := api.call(ctx, "GET", "/api/v1/media/jobs/"+url.PathEscape(id), nil, nil, &j); err != nil {
			return err
		}
		_ = bar.Set(int(100 * j.Progress))
		switch j.Status {
		case mediatrail.JobCompleted:
			_ = bar.Finish()
			if err := c.printJob(&j); err != nil {
				return err
			}
			return c.saveOutput(ctx, api, j.AssetID, dir)
		case mediatrail.JobFailed, mediatrail.JobCancelled:
			_ = bar.Finish()
			if err := c.printJob(&j); err != nil {
				return err
			}
			if j.Error != nil {
				return fmt.Errorf("job %s %s: %s: %s", id, j.Status, j.Error.Code, j.Error.Message)
			}
			return fmt.Errorf("job %s %s", id, j.Status)
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("job %s still %s after %s", id, j.Status, timeout)
			}
			return ctx.Err()
		case <-time.After(interval):
		}
	}
}

func (c *cli) jobsListCommand() *cobra.Command {
	var status string
	var limit int
	var all bool
	cmd := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List video jobs, newest first",
		Example: `  mediatrail jobs ls --status active
  mediatrail jobs ls --all --jsonl`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			api, err := c.client()
			if err != nil {
				return err
			}
			q := query("status", status, "limit", fmt.Sprint(limit))
			var jobs []*mediatrail.JobView
			if _, err := pages(cmd.Context(), api, "/api/v1/media/jobs", q, all, func(page []*mediatrail.JobView) error {
				jobs = append(jobs, page...)
				return nil
			}); err != nil {
				return err
			}
			switch {
			case c.jsonlOut:
				for _, j := range jobs {
					if err := c.printJSON(j); err != nil {
						return err
					}
				}
				return nil
			case c.jsonOut:
				if jobs == nil {
					jobs = []*mediatrail.JobView{}
				}
				return c.printJSON(jobs)
			}
			w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tSTATUS\tMEDIA TYPE\tPROVIDER\tPROGRESS\tCOST\tCREATED")
			for _, j := range jobs {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s/%s\t%.0f%%\t%s\t%s\n", j.ID, j.Status, j.MediaType, j.Provider, j.Model,
					100*j.Progress, money(j.Cost), j.CreatedAt.UTC().Format(time.RFC3339))
			}
			return w.Flush()
		},
	}
	cmd.Flags().StringVar(&status, "status", "", "active, queued, processing, completed, failed, cancelled (comma-separated)")
	cmd.Flags().IntVar(&limit, "limit", 20, "jobs per page (1-100)")
	cmd.Flags().BoolVar(&all, "all", false, "follow the cursor to the last page")
	return cmd
}
