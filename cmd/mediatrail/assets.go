package main

import (
	"bufio"
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

func (c *cli) assetsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "assets",
		Short: "List, inspect, upload, download and remove assets",
	}
	cmd.AddCommand(c.assetsListCommand(), c.assetsGetCommand(), c.assetsDownloadCommand(), c.assetsUploadCommand(),
		c.assetsRemoveCommand(), c.assetsCleanupCommand())
	return cmd
}

// assetFilters are the filters of listings and cleanups, by their API names.
type assetFilters struct {
	typ, provider, agent, execution string
	after, before                   string
}

func (f *assetFilters) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.typ, "type", "", "image, audio, video, text or file")
	fl.StringVar(&f.provider, "provider", "", "provider that made the asset")
	fl.StringVar(&f.agent, "agent", "", "agent id")
	fl.StringVar(&f.execution, "execution", "", "execution id")
	fl.StringVar(&f.after, "created-after", "", "created after this time (RFC 3339 or a date; exclusive)")
	fl.StringVar(&f.before, "created-before", "", "created before this time (RFC 3339 or a date; exclusive)")
}

// query is f as the query of GET /api/v1/assets.
func (f *assetFilters) query() url.Values {
	return query("type", f.typ, "provider", f.provider, "agent_id", f.agent, "execution_id", f.execution,
		"created_after", f.after, "created_before", f.before)
}

func (c *cli) assetsListCommand() *cobra.Command {
	var f assetFilters
	var status, cursor string
	var limit int
	var all bool
	cmd := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List assets, newest first",
		Long: `ls lists the workspace's ready assets, newest first, one page (--limit) at a time;
--all follows the cursor to the end. Output: a table, --json (an array) or --jsonl
(one asset per line, written as pages arrive).`,
		Example: `  mediatrail assets ls --execution run-1
  mediatrail assets ls --type image --created-after 2026-12-01 --all --jsonl`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			api, err := c.client()
			if err != nil {
				return err
			}
			q := f.query()
			q.Set("limit", strconv.Itoa(limit))
			if status != "" {
				q.Set("status", status)
			}
			if cursor != "" {
				q.Set("cursor", cursor)
			}
			var collected []*mediatrail.Asset
			m, err := pages(cmd.Context(), api, "/api/v1/assets", q, all, func(page []*mediatrail.Asset) error {
				if c.jsonlOut {
					for _, a := range page {
						if err := c.printJSON(a); err != nil {
							return err
						}
					}
				}
				collected = append(collected, page...)
				return nil
			})
			if err != nil {
				return err
			}
			if !all && m != nil && m.NextCursor != "" && !c.structured() {
				defer fmt.Fprintf(c.stderr, "more: --cursor %s (or --all)\n", m.NextCursor)
			}
			switch {
			case c.jsonlOut:
				return nil
			case c.jsonOut:
				if collected == nil {
					collected = []*mediatrail.Asset{}
				}
				return c.printJSON(collected)
			}
			c.assetTable(collected)
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&status, "status", "", "ready (default) or pending")
	cmd.Flags().IntVar(&limit, "limit", 20, "assets per page (1-100)")
	cmd.Flags().StringVar(&cursor, "cursor", "", "continue from this cursor")
	cmd.Flags().BoolVar(&all, "all", false, "follow the cursor to the last page")
	return cmd
}

// assetTable prints assets as a table.
func (c *cli) assetTable(assets []*mediatrail.Asset) {
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tTYPE\tSIZE\tNAME\tPROVIDER\tEXECUTION\tCREATED")
	for _, a := range assets {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, a.Type, humanBytes(a.FileSize), a.FileName, dash(a.Provider),
			dash(a.ExecutionID), a.CreatedAt.UTC().Format(time.RFC3339))
	}
	w.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// humanBytes writes n in B, KiB, MiB or GiB.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 3; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGT"[exp])
}

func (c *cli) assetsGetCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "get ID",
		Short:   "Show one asset",
		Example: `  mediatrail assets get 2bF3hY8wZQmS9vT1uK4nR7pL0aX --json`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := c.client()
			if err != nil {
				return err
			}
			a, err := getAsset(cmd.Context(), api, args[0])
			if err != nil {
				return err
			}
			if c.structured() {
				return c.printJSON(a)
			}
			w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
			for _, row := range [][2]string{
				{"id", a.ID}, {"status", string(a.Status)}, {"type", string(a.Type)}, {"file_name", a.FileName},
				{"file_size", fmt.Sprintf("%d (%s)", a.FileSize, humanBytes(a.FileSize))}, {"content_type", a.ContentType},
				{"sha256", a.SHA256}, {"provider", dash(a.Provider)}, {"model", dash(a.Model)}, {"execution_id", dash(a.ExecutionID)},
				{"agent_id", dash(a.AgentID)}, {"span_id", dash(a.SpanID)}, {"retention_days", strconv.Itoa(a.RetentionDays)},
				{"deduplicated", strconv.FormatBool(a.Deduplicated)}, {"created_at", a.CreatedAt.UTC().Format(time.RFC3339)},
			} {
				fmt.Fprintf(w, "%s\t%s\n", row[0], row[1])
			}
			return w.Flush()
		},
	}
}

func getAsset(ctx context.Context, api *client, id string) (*mediatrail.Asset, error) {
	var a mediatrail.Asset
	if _, err := api.call(ctx, "GET", "/api/v1/assets/"+url.PathEscape(id), nil, nil, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

func (c *cli) assetsRemoveCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "rm ID...",
		Aliases: []string{"delete"},
		Short:   "Remove assets (blob and record; their spans stay)",
		Example: `  mediatrail assets rm 2bF3hY8wZQmS9vT1uK4nR7pL0aX`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := c.client()
			if err != nil {
				return err
			}
			failed := 0
			for _, id := range args {
				if _, err := api.call(cmd.Context(), "DELETE", "/api/v1/assets/"+url.PathEscape(id), nil, nil, nil); err != nil {
					fmt.Fprintf(c.stderr, "%s: %v\n", id, err)
					failed++
					continue
				}
				fmt.Fprintf(c.stdout, "removed %s\n", id)
			}
			if failed > 0 {
				return fmt.Errorf("%d of %d assets not removed", failed, len(args))
			}
			return nil
		},
	}
}

func (c *cli) assetsCleanupCommand() *cobra.Command {
	var f assetFilters
	var dryRun, yes bool
	cmd := &cobra.Command{
		Use:   "cleanup",
		Short: "Remove every ready asset matching the filters (dry run first)",
		Long: `cleanup first asks the API which assets a removal would take (a dry run) and shows
the first batch; then, after you confirm (or with --yes), removes every matching asset,
batch after batch. --dry-run stops after showing. At least one filter is required.`,
		Example: `  mediatrail assets cleanup --execution run-1 --dry-run
  mediatrail assets cleanup --type video --created-before 2026-11-01 --yes`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			in := mediatrail.BulkCleanupInput{ExecutionID: f.execution, AgentID: f.agent, Type: f.typ, Provider: f.provider}
			for _, t := range []struct {
				flag, v string
				dst     **time.Time
			}{{"created-after", f.after, &in.CreatedAfter}, {"created-before", f.before, &in.CreatedBefore}} {
				if t.v == "" {
					continue
				}
				at, err := parseTime(t.v)
				if err != nil {
					return usagef("--%s: %v", t.flag, err)
				}
				*t.dst = &at
			}
			if in == (mediatrail.BulkCleanupInput{}) {
				return usagef("cleanup needs at least one filter (--execution, --agent, --type, --provider, --created-after, --created-before)")
			}
			api, err := c.client()
			if err != nil {
				return err
			}
			preview := in
			preview.DryRun = true
			var batch mediatrail.BulkCleanupResult
			if _, err := api.call(cmd.Context(), "POST", "/api/v1/assets/cleanup", nil, preview, &batch); err != nil {
				return err
			}
			if dryRun && c.structured() {
				return c.printJSON(batch)
			}
			if len(batch.Assets) == 0 {
				fmt.Fprintln(c.stdout, "No asset matches.")
				return nil
			}
			c.assetTable(batch.Assets)
			more := ""
			if batch.NextCursor != "" {
				more = " (the first batch; more match)"
			}
			fmt.Fprintf(c.stdout, "%d assets would be removed%s.\n", batch.Count, more)
			if dryRun {
				return nil
			}
			if !yes {
				fmt.Fprint(c.stderr, "Remove them? [y/N] ")
				answer, _ := bufio.NewReader(c.stdin).ReadString('\n')
				if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
					return fmt.Errorf("cleanup cancelled: nothing was removed")
				}
			}
			removed, failed := 0, 0
			for {
				var out mediatrail.BulkCleanupResult
				if _, err := api.call(cmd.Context(), "POST", "/api/v1/assets/cleanup", nil, in, &out); err != nil {
					return fmt.Errorf("after removing %d assets: %w", removed, err)
				}
				removed += out.Count
				for _, x := range out.Failed {
					fmt.Fprintf(c.stderr, "%s: %s: %s\n", x.ID, x.Code, x.Message)
					failed++
				}
				if out.NextCursor == "" {
					break
				}
				in.Cursor = out.NextCursor
			}
			fmt.Fprintf(c.stdout, "Removed %d assets.\n", removed)
			if failed > 0 {
				return fmt.Errorf("%d assets could not be removed; run cleanup again", failed)
			}
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "only show what would be removed")
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "remove without asking")
	return cmd
}

// parseTime reads RFC 3339 or a bare date (its midnight UTC).
func parseTime(v string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time or a date (2026-01-02)", v)
}
