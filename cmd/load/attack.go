package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// phase is one attack: its clients and each route's metrics.
type phase struct {
	Clients  int
	Duration time.Duration
	Routes   map[string]*vegeta.Metrics
	Total    *vegeta.Metrics
	Floor    *floor // nil: not measured
	Probe    *floor // GetItems beside the phase; nil: not measured
}

// Errors counts the phase's failed requests (transport errors and answers
// outside 2xx-3xx, as vegeta counts them).
func (p *phase) Errors() int {
	return int(p.Total.Requests) - int(float64(p.Total.Requests)*p.Total.Success+0.5)
}

// attack runs one phase: clients workers for d, each sending its next
// request as soon as the previous one answered (rate 0), or rate requests
// per second in all.
func attack(ctx context.Context, w *workload, clients, rate int, d time.Duration) phase {
	a := vegeta.NewAttacker(
		vegeta.Workers(uint64(clients)), vegeta.MaxWorkers(uint64(clients)),
		vegeta.Connections(clients), vegeta.KeepAlive(true), vegeta.Timeout(35*time.Second), // the gateway answers 504 after 30 s
	)
	pacer := vegeta.Rate{Freq: rate, Per: time.Second}
	p := phase{Clients: clients, Duration: d, Routes: map[string]*vegeta.Metrics{}, Total: &vegeta.Metrics{}}
	results := a.Attack(w.Targeter(), pacer, d, fmt.Sprintf("%d clients", clients))
	stop := context.AfterFunc(ctx, func() { a.Stop() })
	defer stop()
	for r := range results {
		route := w.record(r)
		m := p.Routes[route]
		if m == nil {
			m = &vegeta.Metrics{}
			p.Routes[route] = m
		}
		m.Add(r)
		p.Total.Add(r)
	}
	for _, m := range p.Routes {
		m.Close()
	}
	p.Total.Close()
	return p
}

func (p *phase) print(out io.Writer) {
	fmt.Fprintf(out, "\n%d clients, %s: %d requests, %.0f/s, %d failed\n", p.Clients, p.Duration, p.Total.Requests, p.Total.Rate, p.Errors())
	fmt.Fprintf(out, "  %-11s %8s %8s %9s %9s %9s %9s  %s\n", "route", "requests", "ok/s", "p50", "p95", "p99", "max", "errors")
	// Throughput is over the whole phase: a route's own first-to-last span
	// would overstate a rare one.
	span := (p.Total.Duration + p.Total.Wait).Seconds()
	row := func(name string, m *vegeta.Metrics) {
		l := m.Latencies
		fmt.Fprintf(out, "  %-11s %8d %8.1f %9s %9s %9s %9s  %s\n", name, m.Requests, float64(m.Requests)*m.Success/max(span, 1e-9),
			ms(l.P50), ms(l.P95), ms(l.P99), ms(l.Max), describeErrors(m))
	}
	for _, r := range routes {
		if m := p.Routes[r]; m != nil {
			row(r, m)
		}
	}
	row("all", p.Total)
	if p.Floor != nil {
		defer p.Floor.print(out)
	}
	if p.Probe != nil {
		defer p.Probe.printProbe(out)
	}
	noop := p.Routes[routeNoop]
	if noop == nil || noop.Requests == 0 {
		return
	}
	fmt.Fprintf(out, "  gateway + runtime overhead (no-op function): p50 %s, p99 %s\n", ms(noop.Latencies.P50), ms(noop.Latencies.P99))
	for _, r := range []string{routeGet, routeSignedURL} {
		if m := p.Routes[r]; m != nil && m.Requests > 0 {
			fmt.Fprintf(out, "  %s beyond it: p50 %s, p99 %s (p99 ratio to no-op %.2f)\n", r,
				ms(m.Latencies.P50-noop.Latencies.P50), ms(m.Latencies.P99-noop.Latencies.P99),
				float64(m.Latencies.P99)/float64(max(noop.Latencies.P99, 1)))
		}
	}
}

// describeErrors lists the failures' status codes and messages.
func describeErrors(m *vegeta.Metrics) string {
	var codes []string
	for code, n := range m.StatusCodes {
		if code < "200" || code >= "400" {
			codes = append(codes, fmt.Sprintf("%s×%d", code, n))
		}
	}
	if len(codes) == 0 {
		return "0"
	}
	sort.Strings(codes)
	msgs := m.Errors
	if len(msgs) > 3 {
		msgs = msgs[:3]
	}
	return strings.Join(codes, " ") + " " + strings.Join(msgs, "; ")
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond)) }
