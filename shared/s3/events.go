package s3

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// RemovalHandler is the Lambda handler of the bucket's removal events
// (s3:ObjectRemoved:*, s3:LifecycleExpiration:*): each record becomes a
// mediatrail.BlobRemoval for svc. Records of other event types are ignored.
// It fails when any record could not be applied, so that Lambda delivers the
// event again (applying a record twice is harmless).
func RemovalHandler(svc *mediatrail.CleanupService) func(context.Context, events.S3Event) error {
	return func(ctx context.Context, ev events.S3Event) error {
		var errs []error
		for _, r := range ev.Records {
			if !IsRemoval(r.EventName) {
				continue
			}
			key := r.S3.Object.URLDecodedKey
			if key == "" {
				key, _ = url.QueryUnescape(r.S3.Object.Key)
			}
			_, err := svc.BlobRemoved(ctx, mediatrail.BlobRemoval{
				Key: key, EventName: r.EventName, EventTime: r.EventTime, Sequencer: r.S3.Object.Sequencer,
			})
			if err != nil {
				errs = append(errs, fmt.Errorf("%s %s: %w", r.EventName, key, err))
			}
		}
		return errors.Join(errs...)
	}
}

// IsRemoval reports whether an S3 event name (AWS form, "ObjectRemoved:Delete")
// says an object is gone.
func IsRemoval(eventName string) bool {
	return strings.HasPrefix(eventName, "ObjectRemoved:") || strings.HasPrefix(eventName, "LifecycleExpiration:")
}
