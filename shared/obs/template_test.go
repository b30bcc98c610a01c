package obs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v4"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/obs"
)

type dimension struct {
	Name  string `yaml:"Name"`
	Value any    `yaml:"Value"`
}

type alarmMetric struct {
	Namespace  string      `yaml:"Namespace"`
	MetricName string      `yaml:"MetricName"`
	Dimensions []dimension `yaml:"Dimensions"`
}

// alarm is what the test reads of an AWS::CloudWatch::Alarm: a plain metric,
// or the metrics of a metric-math expression.
type alarm struct {
	alarmMetric  `yaml:",inline"`
	AlarmActions []any `yaml:"AlarmActions"`
	OKActions    []any `yaml:"OKActions"`
	Metrics      []struct {
		ID         string `yaml:"Id"`
		MetricStat *struct {
			Metric alarmMetric `yaml:"Metric"`
		} `yaml:"MetricStat"`
	} `yaml:"Metrics"`
}

func (a alarm) metrics() []alarmMetric {
	var out []alarmMetric
	if a.MetricName != "" {
		out = append(out, a.alarmMetric)
	}
	for _, m := range a.Metrics {
		if m.MetricStat != nil {
			out = append(out, m.MetricStat.Metric)
		}
	}
	return out
}

func templateAlarms(t *testing.T) map[string]alarm {
	t.Helper()
	b, err := os.ReadFile("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var tmpl struct {
		Resources map[string]struct {
			Type       string    `yaml:"Type"`
			Properties yaml.Node `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(b, &tmpl); err != nil {
		t.Fatal(err)
	}
	out := map[string]alarm{}
	for id, r := range tmpl.Resources {
		if r.Type != "AWS::CloudWatch::Alarm" {
			continue
		}
		var a alarm
		if err := r.Properties.Decode(&a); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		out[id] = a
	}
	return out
}

// emittedSeries runs every Recorder method and returns each series written:
// "Metric|Dim=value,..." for each dimension set of each line.
func emittedSeries(t *testing.T) map[string]bool {
	t.Helper()
	var buf bytes.Buffer
	r := obs.NewRecorder(&buf, nil)
	ctx := context.Background()
	r.ProviderCall(ctx, &mediatrail.Span{Provider: "openai", MediaType: mediatrail.CapabilityTTS})
	for _, s := range []mediatrail.JobState{mediatrail.JobCompleted, mediatrail.JobFailed, mediatrail.JobCancelled} {
		r.JobEnded(ctx, &mediatrail.MediaJob{Provider: "runway", Status: s})
	}
	r.Reconciled(ctx, &mediatrail.ReconcileReport{})
	raw, parsed := parseEMF(t, &buf)
	series := map[string]bool{}
	for i, l := range parsed {
		d := l.AWS.CloudWatchMetrics[0]
		for _, set := range d.Dimensions {
			var dims []string
			for _, name := range set {
				dims = append(dims, name+"="+raw[i][name].(string))
			}
			sort.Strings(dims)
			for _, m := range d.Metrics {
				series[m.Name+"|"+strings.Join(dims, ",")] = true
			}
		}
	}
	return series
}

// Every alarm on a Mediatrail metric watches a series the functions write:
// a name of obs.Metrics with exactly the dimensions (names and values) some
// line carries; every alarm notifies the AlarmTopicArn parameter; and the
// alarms an operator relies on are there.
func TestTemplateAlarmsWatchEmittedMetrics(t *testing.T) {
	alarms := templateAlarms(t)
	for _, want := range []string{"ProviderErrorRateAlarm", "ApiServerErrorsAlarm", "FailedJobsAlarm", "StuckJobsAlarm", "ReconcileHeldBackAlarm"} {
		if _, ok := alarms[want]; !ok {
			t.Errorf("template.yaml has no %s", want)
		}
	}
	series := emittedSeries(t)
	names := map[string]bool{}
	for _, m := range obs.Metrics {
		names[m.Name] = true
	}
	for id, a := range alarms {
		ms := a.metrics()
		if len(ms) == 0 {
			t.Errorf("%s watches no metric", id)
		}
		for _, m := range ms {
			if m.Namespace != obs.Namespace {
				continue
			}
			if !names[m.MetricName] {
				t.Errorf("%s: metric %s is not in obs.Metrics", id, m.MetricName)
			}
			var dims []string
			for _, d := range m.Dimensions {
				v, _ := d.Value.(string)
				dims = append(dims, d.Name+"="+v)
			}
			sort.Strings(dims)
			if key := m.MetricName + "|" + strings.Join(dims, ","); !series[key] {
				t.Errorf("%s watches %s, which no EMF line writes", id, key)
			}
		}
		for _, actions := range [][]any{a.AlarmActions, a.OKActions} {
			b, _ := json.Marshal(actions)
			if !strings.Contains(string(b), "AlarmTopicArn") {
				t.Errorf("%s: actions %s do not notify AlarmTopicArn", id, b)
			}
		}
	}
}
