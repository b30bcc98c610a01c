// Package s3event is the Lambda adapter of the bucket's event notifications
// (events.S3Event): it turns each record into a mediatrail.BlobEvent for the
// cleanup use case, as package httpapi does for API Gateway requests. It
// depends on the domain only, not on the storage adapter.
package s3event

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// Handler is the Lambda handler of the bucket's object events under
// workspaces/: each record becomes a mediatrail.BlobEvent for svc, removals
// (s3:ObjectRemoved:*, s3:LifecycleExpiration:*) through BlobRemoved and
// creations (s3:ObjectCreated:*) through BlobCreated. Records of other event
// types are ignored. It fails when any record could not be applied, so that
// Lambda delivers the event again (applying a record twice is harmless).
func Handler(svc *mediatrail.CleanupService) func(context.Context, events.S3Event) error {
	return func(ctx context.Context, ev events.S3Event) error {
		var errs []error
		for _, r := range ev.Records {
			key := r.S3.Object.URLDecodedKey
			if key == "" {
				key, _ = url.QueryUnescape(r.S3.Object.Key)
			}
			be := mediatrail.BlobEvent{Key: key, EventName: r.EventName, EventTime: r.EventTime, Sequencer: r.S3.Object.Sequencer}
			var err error
			switch {
			case IsRemoval(r.EventName):
				_, err = svc.BlobRemoved(ctx, be)
			case IsCreation(r.EventName):
				_, err = svc.BlobCreated(ctx, be)
			}
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

// IsCreation reports whether an S3 event name ("ObjectCreated:Put") says an
// object was written.
func IsCreation(eventName string) bool {
	return strings.HasPrefix(eventName, "ObjectCreated:")
}
