package localstack

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// S3Record is one record of the S3 event AWS delivers to Lambda.
type S3Record struct {
	EventVersion      string            `json:"eventVersion"`
	EventSource       string            `json:"eventSource"`
	AWSRegion         string            `json:"awsRegion"`
	EventTime         string            `json:"eventTime"`
	EventName         string            `json:"eventName"`
	UserIdentity      s3Identity        `json:"userIdentity"`
	RequestParameters s3RequestParams   `json:"requestParameters"`
	ResponseElements  map[string]string `json:"responseElements"`
	S3                s3Entity          `json:"s3"`
}

type s3Identity struct {
	PrincipalID string `json:"principalId"`
}

type s3RequestParams struct {
	SourceIPAddress string `json:"sourceIPAddress"`
}

type s3Entity struct {
	SchemaVersion   string   `json:"s3SchemaVersion"`
	ConfigurationID string   `json:"configurationId"`
	Bucket          s3Bucket `json:"bucket"`
	Object          s3Object `json:"object"`
}

type s3Bucket struct {
	Name          string     `json:"name"`
	OwnerIdentity s3Identity `json:"ownerIdentity"`
	ARN           string     `json:"arn"`
}

type s3Object struct {
	// Key is URL-encoded, as in AWS events ("my photo.png" → "my+photo.png").
	Key       string `json:"key"`
	Size      *int64 `json:"size,omitempty"`
	ETag      string `json:"eTag,omitempty"`
	VersionID string `json:"versionId,omitempty"`
	Sequencer string `json:"sequencer"`
}

// versitygwRecord is the record versitygw's --event-webhook-url posts.
type versitygwRecord struct {
	AWSRegion    string `json:"awsRegion"`
	EventTime    string `json:"eventTime"`
	EventName    string `json:"eventName"`
	UserIdentity struct {
		PrincipalID string `json:"PrincipalId"`
	} `json:"userIdentity"`
	RequestParameters s3RequestParams `json:"requestParameters"`
	ResponseElements  struct {
		RequestID string `json:"x-amz-request-id"`
		HostID    string `json:"x-amz-id-2"`
	} `json:"responseElements"`
	S3 struct {
		Bucket struct {
			Name          string `json:"name"`
			OwnerIdentity struct {
				PrincipalID string `json:"PrincipalId"`
			} `json:"ownerIdentity"`
		} `json:"bucket"`
		Object struct {
			Key       string  `json:"key"`
			Size      int64   `json:"size"`
			ETag      *string `json:"eTag"`
			VersionID *string `json:"versionId"`
			Sequencer string  `json:"sequencer"`
		} `json:"object"`
	} `json:"s3"`
}

// TranslateVersitygwEvent turns a versitygw webhook body into the records AWS
// would deliver, correcting what versitygw does differently: the event name
// loses its "s3:" prefix (and DeleteObjects becomes Delete, one record per
// key), the ETag loses its quotes, the bucket ARN loses the key, the key is
// URL-encoded, removals carry no size or ETag, and times are UTC with
// milliseconds. A body that is not a record list (versitygw's start-up test
// event) yields no records.
func TranslateVersitygwEvent(body []byte) ([]S3Record, error) {
	var doc struct {
		Records []versitygwRecord
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("S3 event: %w", err)
	}
	out := make([]S3Record, 0, len(doc.Records))
	for _, r := range doc.Records {
		name := strings.TrimPrefix(r.EventName, "s3:")
		if name == "ObjectRemoved:DeleteObjects" {
			name = "ObjectRemoved:Delete"
		}
		key, err := url.PathUnescape(r.S3.Object.Key)
		if err != nil {
			key = r.S3.Object.Key
		}
		when, err := time.Parse(time.RFC3339Nano, r.EventTime)
		if err != nil {
			when = time.Now()
		}
		rec := S3Record{
			EventVersion:      "2.1",
			EventSource:       "aws:s3",
			AWSRegion:         r.AWSRegion,
			EventTime:         when.UTC().Format("2006-01-02T15:04:05.000Z"),
			EventName:         name,
			UserIdentity:      s3Identity{PrincipalID: r.UserIdentity.PrincipalID},
			RequestParameters: r.RequestParameters,
			ResponseElements:  map[string]string{"x-amz-request-id": r.ResponseElements.RequestID, "x-amz-id-2": r.ResponseElements.HostID},
			S3: s3Entity{
				SchemaVersion: "1.0",
				Bucket: s3Bucket{
					Name:          r.S3.Bucket.Name,
					OwnerIdentity: s3Identity{PrincipalID: r.S3.Bucket.OwnerIdentity.PrincipalID},
					ARN:           "arn:aws:s3:::" + r.S3.Bucket.Name,
				},
				Object: s3Object{Key: EncodeS3EventKey(key), Sequencer: sequencer(r.S3.Object.Sequencer)},
			},
		}
		if strings.HasPrefix(name, "ObjectCreated:") {
			size := r.S3.Object.Size
			rec.S3.Object.Size = &size
			if r.S3.Object.ETag != nil {
				rec.S3.Object.ETag = strings.Trim(*r.S3.Object.ETag, `"`)
			}
		}
		if v := r.S3.Object.VersionID; v != nil && *v != "" && *v != "null" {
			rec.S3.Object.VersionID = *v
		}
		out = append(out, rec)
	}
	return out, nil
}

// EncodeS3EventKey encodes an object key as S3 event notifications do:
// form-style escaping with "/" kept.
func EncodeS3EventKey(key string) string {
	return strings.ReplaceAll(url.QueryEscape(key), "%2F", "/")
}

// sequencer left-pads versitygw's short hex counter to the width of AWS
// sequencers, so that string order stays event order.
func sequencer(s string) string {
	const width = 18
	if len(s) >= width {
		return s
	}
	return strings.Repeat("0", width-len(s)) + strings.ToUpper(s)
}

// Matches reports whether a record of bucket with eventName (AWS form, e.g.
// "ObjectRemoved:Delete") for the decoded object key invokes this source.
func (e DeployedS3Event) Matches(bucket, eventName, key string) bool {
	if bucket != e.BucketName || !strings.HasPrefix(key, e.Prefix) || !strings.HasSuffix(key, e.Suffix) {
		return false
	}
	for _, t := range e.Types {
		t = strings.TrimPrefix(t, "s3:")
		if t == eventName || (strings.HasSuffix(t, ":*") && strings.HasPrefix(eventName, strings.TrimSuffix(t, "*"))) {
			return true
		}
	}
	return false
}

// s3Notifications receives versitygw's webhook and invokes the functions the
// template subscribes, asynchronously as S3 does, retrying a failed
// invocation after each of retryDelays.
type s3Notifications struct {
	sources     []DeployedS3Event
	invoke      func(ctx context.Context, source, logicalID string, payload []byte) ([]byte, error)
	background  func(func(context.Context))
	retryDelays []time.Duration
	// objectSize, when set, supplies the size versitygw reports as 0 for a
	// completed multipart upload.
	objectSize func(ctx context.Context, bucket, key string) (int64, error)
	logger     *slog.Logger
}

func (n *s3Notifications) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	// versitygw waits at most 3 s for the answer: the work happens afterwards.
	w.WriteHeader(http.StatusNoContent)
	if err != nil {
		return
	}
	n.background(func(ctx context.Context) { n.dispatch(ctx, body) })
}

func (n *s3Notifications) dispatch(ctx context.Context, body []byte) {
	records, err := TranslateVersitygwEvent(body)
	if err != nil {
		n.logger.Warn("S3 event not understood", "err", err)
		return
	}
	for _, rec := range records {
		key, _ := url.QueryUnescape(rec.S3.Object.Key)
		if size := rec.S3.Object.Size; size != nil && *size == 0 && n.objectSize != nil {
			if real, err := n.objectSize(ctx, rec.S3.Bucket.Name, key); err == nil {
				rec.S3.Object.Size = &real
			}
		}
		for _, src := range n.sources {
			if !src.Matches(rec.S3.Bucket.Name, rec.EventName, key) {
				continue
			}
			rec := rec
			rec.S3.ConfigurationID = src.Name
			payload, err := json.Marshal(map[string]any{"Records": []S3Record{rec}})
			if err != nil {
				continue
			}
			fn := src.Function
			n.background(func(ctx context.Context) { n.deliver(ctx, fn, payload) })
		}
	}
}

func (n *s3Notifications) deliver(ctx context.Context, fn string, payload []byte) {
	for attempt := 0; ; attempt++ {
		_, err := n.invoke(ctx, "s3", fn, payload)
		if err == nil || ctx.Err() != nil {
			return
		}
		if attempt >= len(n.retryDelays) {
			n.logger.Error("S3 event dropped after retries", "function", fn, "err", err)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(n.retryDelays[attempt]):
		}
	}
}
