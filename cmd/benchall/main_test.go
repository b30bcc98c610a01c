package main

import (
	"strings"
	"testing"
)

// Each reader finds its figures in its command's output (the formats the
// bench commands print) and judges them against the goals.
func TestReaders(t *testing.T) {
	for _, tc := range []struct {
		name string
		read func(string) ([]figure, error)
		out  string
		want []string // "name=measured:met" of each figure
	}{
		{"bench", readBench, `BenchmarkPresignGet 	 109	 22298544 ns/op	 73546 URLs/s	 20000 client-URLs/s	 13600 ns/URL	 3.720 x-PresignClient	 2546444 B/op
BenchmarkListDepth/deep_page-2         	     200	   1234 ns/op	         1.160 deep/first
BenchmarkTraceSummary/all/ws-large-2    	     200	   2270195 ns/op	         0.8039 large/small
BenchmarkTraceSummary/days/ws-large-2         	     200	   1234 ns/op	         1.6 large/small`,
			[]string{"presigned GET URLs per second, one core=73546/s:true", "presign speed-up over s3.PresignClient=73546/s:true",
				"list page 90% deep vs first page (deep_page)=deep page:true", "trace summary (all/ws-large), large workspace vs 100 spans=large:true",
				"trace summary (days/ws-large), large workspace vs 100 spans=large:false"}},
		{"cold", readCold, `function                  size (MB)  size/base    init (ms)  init/base
hello-world                    5.10       1.00         10.0       1.00
asset-get                      8.39       1.65         14.2       1.42
asset-get+db                   8.39       1.65         30.1       3.01
asset-complete                 9.83       1.93         15.0       1.50
media-tts                     20.00       3.92         30.0       3.00`,
			[]string{"asset-get bootstrap (linux/arm64, stripped, lambda.norpc)=8.39 MB:true",
				"asset-get init-to-first-response under aws-lambda-rie=14.2 ms:true",
				"asset-get init-to-first-response, first request reading DynamoDB Local (asset-get+db)=30.1 ms:true",
				"largest asset bootstrap (asset-complete)=9.83 MB:true"}},
		{"video", readVideo, `        body    seconds      MiB/s   duration (s)     RSS before       peak RSS   RSS/body
      64 MiB        1.2         53            600       23.5 MiB       36.9 MiB     0.5773
    1024 MiB       10.3         99            600       24.6 MiB       40.3 MiB     0.0393`,
			[]string{"video Store peak RSS at 1024 MiB=40.3 MiB:true", "video Store peak RSS, 1024 MiB vs 64 MiB=40.3 MiB:true"}},
		{"reconcile", readReconcile, `peak RSS at 20000 objects / at 2000: 1.25 (goal: flat, about 1)`,
			[]string{"reconcile peak RSS, 20000 vs 2000 objects=20000 objects:false"}},
		{"load", readLoad, `
20 clients, 10s: 900 requests, 90/s, 0 failed
  route       requests     ok/s       p50       p95       p99       max  errors
  get              300     30.0     5.0ms     9.0ms    12.5ms    30.0ms  
  signed-url       200     20.0     6.0ms    12.0ms    25.1ms    40.0ms  
  gateway + runtime overhead (no-op function): p50 1.0ms, p99 3.0ms
  DynamoDB Local floor (direct GetItem, 20 clients, 5s, 4000 requests, 0 failed): p50 1.5ms, p99 7.5ms

100 clients, 10s: 900 requests, 90/s, 2 failed
  get              300     30.0     5.0ms     9.0ms    99.5ms    30.0ms  

nothing lost? 120 acknowledged, 10 of them deleted, 110 checked (listed, downloaded through the signed URL, sha256 equal), 0 with a failed delete not checked`,
			[]string{"load errors at 20 clients=0:true", "get p99 at 20 clients (RIE)=12.5ms:true", "signed-url p99 at 20 clients (RIE)=25.1ms:false",
				"acknowledged assets listed and downloadable=110 checked:true"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			figs, err := tc.read(tc.out)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range figs {
				got = append(got, f.name+"="+f.measured+":"+map[bool]string{true: "true", false: "false"}[f.met])
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// replay splits a saved run at the headings benchall printed.
func TestReplay(t *testing.T) {
	steps := []*step{{make: []string{"bench"}}, {make: []string{"load"}}}
	total := replay(steps, "setup\n== make bench BENCH_ASSETS=20\nb1\nb2\n== took 3s\n== make load DURATION=1s\nl1\n")
	if steps[0].out != "b1\nb2\n" || steps[1].out != "l1\n" || steps[0].took.Seconds() != 3 || total.Seconds() != 3 ||
		strings.Join(steps[0].make, " ") != "bench BENCH_ASSETS=20" {
		t.Fatalf("got %+v %+v, total %s", *steps[0], *steps[1], total)
	}
}

// A load figure's baseline names the no-op function's p99 and the direct
// GetItem's of its phase, alone and beside the load.
func TestLoadBaseline(t *testing.T) {
	figs, err := readLoad(`
20 clients, 10s: 900 requests, 90/s, 0 failed
  get              300     30.0     5.0ms     9.0ms    12.5ms    30.0ms  
  gateway + runtime overhead (no-op function): p50 1.0ms, p99 3.0ms
  DynamoDB Local during the phase (a GetItem every 50ms beside it, 200 requests, 0 failed): p50 4.0ms, p99 40.5ms
  DynamoDB Local floor (direct GetItem, 20 clients, 5s, 4000 requests, 0 failed): p50 1.5ms, p99 7.5ms

100 clients, 10s: 900 requests, 90/s, 0 failed
  DynamoDB Local floor (direct GetItem, 100 clients, 5s, 4000 requests, 0 failed): p50 1.5ms, p99 70.5ms
`)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := figs[1].baseline, "3.0ms (no-op), 7.5ms (GetItem alone), 40.5ms (GetItem in the mix)"; got != want {
		t.Fatalf("baseline %q, want %q", got, want)
	}
}
