package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"text/tabwriter"

	"github.com/spf13/cobra"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

func (c *cli) runsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "runs",
		Short: "What an agent execution made and what it cost",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "show EXECUTION_ID",
		Short: "Show an execution's spans as a tree, with costs and asset links",
		Long: `show lists every span of the execution (one per media call), grouped by trace, in
the order they started: the call, its provider and model, status, latency, cost and
the asset it made (with its API link).`,
		Example: `  mediatrail runs show run-1
  mediatrail runs show run-1 --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := c.client()
			if err != nil {
				return err
			}
			q := query("execution_id", args[0], "limit", "100")
			var spans []*mediatrail.Span
			if _, err := pages(cmd.Context(), api, "/api/v1/traces", q, true, func(page []*mediatrail.Span) error {
				spans = append(spans, page...)
				return nil
			}); err != nil {
				return err
			}
			if c.structured() {
				if spans == nil {
					spans = []*mediatrail.Span{}
				}
				return c.printJSON(spans)
			}
			c.spanTree(api.base, args[0], spans)
			return nil
		},
	})
	return cmd
}

// spanTree prints execution ▸ traces ▸ spans, oldest first.
func (c *cli) spanTree(base, execution string, spans []*mediatrail.Span) {
	if len(spans) == 0 {
		fmt.Fprintf(c.stdout, "execution %s: no spans\n", execution)
		return
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].StartedAt.Before(spans[j].StartedAt) })
	var traces []string
	byTrace := map[string][]*mediatrail.Span{}
	total, currency := 0.0, ""
	for _, s := range spans {
		if byTrace[s.TraceID] == nil {
			traces = append(traces, s.TraceID)
		}
		byTrace[s.TraceID] = append(byTrace[s.TraceID], s)
		total += s.Cost.Amount
		currency = s.Cost.Currency
	}
	fmt.Fprintf(c.stdout, "execution %s  %d spans  cost %s %s\n", execution, len(spans), money(total), currency)
	for ti, trace := range traces {
		branch, indent := "├─", "│  "
		if ti == len(traces)-1 {
			branch, indent = "└─", "   "
		}
		fmt.Fprintf(c.stdout, "%s trace %s\n", branch, trace)
		list := byTrace[trace]
		for si, s := range list {
			leaf, more := "├─", "│  "
			if si == len(list)-1 {
				leaf, more = "└─", "   "
			}
			line := fmt.Sprintf("%s  %s/%s  %s  %dms  %s", s.Name, s.Provider, s.Model, s.Status, s.DurationMs, money(s.Cost.Amount))
			if !s.Cost.Priced {
				line += " (unpriced)"
			}
			fmt.Fprintf(c.stdout, "%s%s %s\n", indent, leaf, line)
			switch {
			case s.Error != nil:
				fmt.Fprintf(c.stdout, "%s%s error %s: %s\n", indent, more, s.Error.Code, s.Error.Message)
			case s.AssetID != "" && s.AssetDeleted:
				fmt.Fprintf(c.stdout, "%s%s asset %s (deleted)\n", indent, more, s.AssetID)
			case s.AssetID != "":
				fmt.Fprintf(c.stdout, "%s%s asset %s %s%s\n", indent, more, s.AssetID, base, s.AssetURL)
			}
		}
	}
}

func (c *cli) usageCommand() *cobra.Command {
	var execution, trace, kind, session, from, to string
	cmd := &cobra.Command{
		Use:   "usage",
		Short: "Totals of media calls: count, errors, cost, by provider and media type",
		Example: `  mediatrail usage --from 2026-12-01 --to 2026-12-31
  mediatrail usage --execution run-1 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			api, err := c.client()
			if err != nil {
				return err
			}
			// The answer is printed as it came (--json): the summary's own
			// JSON form is computed from spans the CLI does not have.
			var raw json.RawMessage
			if _, err := api.call(cmd.Context(), "GET", "/api/v1/traces/summary",
				query("execution_id", execution, "trace_id", trace, "kind", kind, "session_id", session, "date_from", from, "date_to", to), nil, &raw); err != nil {
				return err
			}
			if c.structured() {
				return c.printJSON(raw)
			}
			var sum mediatrail.SpanSummary
			if err := json.Unmarshal(raw, &sum); err != nil {
				return err
			}
			w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintf(w, "\tCALLS\tERRORS\tCOST (%s)\tLATENCY\tMEDIA SECONDS\n", sum.Currency)
			row := func(name string, t mediatrail.SpanTotals) {
				fmt.Fprintf(w, "%s\t%d\t%d\t%s\t%dms\t%.1f\n", name, t.Count, t.Errors, money(t.Cost), t.DurationMs, t.MediaDurationSeconds)
			}
			row("total", sum.SpanTotals)
			for _, group := range []struct {
				label  string
				totals map[string]mediatrail.SpanTotals
			}{{"provider", sum.ByProvider}, {"media type", sum.ByMediaType}} {
				names := make([]string, 0, len(group.totals))
				for n := range group.totals {
					names = append(names, n)
				}
				sort.Strings(names)
				for _, n := range names {
					row(group.label+" "+n, group.totals[n])
				}
			}
			return w.Flush()
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&execution, "execution", "", "execution id")
	fl.StringVar(&trace, "trace", "", "trace id")
	fl.StringVar(&kind, "kind", "", "speech, image or video")
	fl.StringVar(&session, "session", "", "session (conversation) id")
	fl.StringVar(&from, "from", "", "from this time (RFC 3339 or a date)")
	fl.StringVar(&to, "to", "", "to this time (a bare date includes the whole day)")
	return cmd
}
