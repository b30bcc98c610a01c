package s3

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	smithyauth "github.com/aws/smithy-go/auth"
	"github.com/aws/smithy-go/encoding/httpbinding"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// getPresigner presigns GetObject URLs with the SDK's SigV4 signer alone,
// without a PresignClient operation: what an S3 presign client works out
// anew for every URL (endpoint rules, the middleware stack, credential
// resolution) is worked out once here, so a URL costs one canonical request
// and one HMAC. Its URLs are those of PresignClient.PresignGetObject with the
// same inputs and signing time.
type getPresigner struct {
	signer *v4.Signer
	// credentials is a cache: retrieved once, retrieved again once expired
	// (a Lambda role's credentials expire and are rotated).
	credentials aws.CredentialsProvider
	// scheme, host and the escaped path prefix (the bucket's path in path
	// style, "" when the bucket is in the host) of every URL.
	scheme, host, path string
	// signingName and signingRegion are the credential scope's.
	signingName, signingRegion string
	// disableDoubleEncoding is S3's: the escaped key is signed as it is.
	disableDoubleEncoding bool
}

// Query parts of a presigned GetObject. getObjectID is the operation marker
// the SDK adds to every GetObject URL.
const (
	getObjectID         = "&x-id=GetObject"
	unsignedPayload     = "UNSIGNED-PAYLOAD"
	sigV4SchemeID       = "sigv4" // as S3's endpoint rules name SigV4
	amzDateLayout       = "20060102T150405Z"
	queryExpires        = "X-Amz-Expires="
	queryDisposition    = "&response-content-disposition="
	queryResponseCTType = "&response-content-type="
)

// newGetPresigner resolves bucket's endpoint with client's own endpoint
// rules and options, as the client would for a GetObject of any key.
// An error means the endpoint is not a plain SigV4 one (an S3 Express or
// multi-region access point, anonymous credentials, no region): presigning
// is then left to the SDK's PresignClient.
func newGetPresigner(client *awss3.Client, bucket string) (*getPresigner, error) {
	o := client.Options()
	if o.Credentials == nil || o.Region == "" || o.EndpointResolverV2 == nil {
		return nil, errors.New("no credentials, region or endpoint resolver")
	}
	if aws.IsCredentialsProvider(o.Credentials, (*aws.AnonymousCredentials)(nil)) {
		return nil, errors.New("anonymous credentials sign nothing")
	}
	ep, err := o.EndpointResolverV2.ResolveEndpoint(context.Background(), awss3.EndpointParameters{
		Bucket:                         aws.String(bucket),
		Region:                         aws.String(o.Region),
		UseFIPS:                        aws.Bool(o.EndpointOptions.UseFIPSEndpoint == aws.FIPSEndpointStateEnabled),
		UseDualStack:                   aws.Bool(o.EndpointOptions.UseDualStackEndpoint == aws.DualStackEndpointStateEnabled),
		Endpoint:                       o.BaseEndpoint,
		ForcePathStyle:                 aws.Bool(o.UsePathStyle),
		Accelerate:                     aws.Bool(o.UseAccelerate),
		DisableMultiRegionAccessPoints: aws.Bool(o.DisableMultiRegionAccessPoints),
		UseArnRegion:                   aws.Bool(o.UseARNRegion),
		DisableS3ExpressSessionAuth:    o.DisableS3ExpressSessionAuth,
	})
	if err != nil {
		return nil, err
	}
	p := &getPresigner{
		signer:      v4.NewSigner(),
		credentials: o.Credentials,
		scheme:      ep.URI.Scheme,
		host:        ep.URI.Host,
		path:        strings.TrimSuffix(ep.URI.EscapedPath(), "/"),
	}
	if !aws.IsCredentialsProvider(p.credentials, (*aws.CredentialsCache)(nil)) {
		p.credentials = aws.NewCredentialsCache(p.credentials)
	}
	options, _ := smithyauth.GetAuthOptions(&ep.Properties)
	for _, opt := range options {
		if opt.SchemeID != sigV4SchemeID {
			continue
		}
		p.signingName, _ = smithyhttp.GetSigV4SigningName(&opt.SignerProperties)
		p.signingRegion, _ = smithyhttp.GetSigV4SigningRegion(&opt.SignerProperties)
		p.disableDoubleEncoding, _ = smithyhttp.GetDisableDoubleEncoding(&opt.SignerProperties)
		break
	}
	if p.signingName == "" || p.signingRegion == "" {
		return nil, fmt.Errorf("endpoint %s is not signed with SigV4", ep.URI.Redacted())
	}
	return p, nil
}

// presign signs a GET of key at signedAt, valid for expires, whose response
// carries disposition and contentType.
func (p *getPresigner) presign(ctx context.Context, key string, expires time.Duration, disposition, contentType string, signedAt time.Time) (mediatrail.PresignedRequest, error) {
	creds, err := p.credentials.Retrieve(ctx)
	if err != nil {
		return mediatrail.PresignedRequest{}, fmt.Errorf("s3: presign get %q: credentials: %w", key, err)
	}
	var query strings.Builder
	query.Grow(len(queryExpires) + 7 + len(queryDisposition) + 3*len(disposition) + len(queryResponseCTType) + 3*len(contentType) + len(getObjectID))
	query.WriteString(queryExpires)
	query.WriteString(strconv.FormatInt(int64(expires/time.Second), 10))
	query.WriteString(queryDisposition)
	query.WriteString(url.QueryEscape(disposition))
	query.WriteString(queryResponseCTType)
	query.WriteString(url.QueryEscape(contentType))
	query.WriteString(getObjectID)
	req := &http.Request{
		Method: http.MethodGet,
		URL: &url.URL{
			Scheme:   p.scheme,
			Host:     p.host,
			Opaque:   "//" + p.host + p.path + "/" + httpbinding.EscapePath(key, false),
			RawQuery: query.String(),
		},
		Host:   p.host,
		Header: http.Header{},
	}
	signed, headers, err := p.signer.PresignHTTP(ctx, creds, req, unsignedPayload, p.signingName, p.signingRegion, signedAt,
		func(o *v4.SignerOptions) { o.DisableURIPathEscaping = p.disableDoubleEncoding })
	if err != nil {
		return mediatrail.PresignedRequest{}, fmt.Errorf("s3: presign get %q: %w", key, err)
	}
	return presignedRequest(signed, http.MethodGet, headers, signedAt.UTC().Truncate(time.Second), expires), nil
}

// presignedRequest is a presigned request as the domain hands it out. The
// signed headers, less Host, are what the client must send; ExpiresAt is the
// signing time plus expires.
func presignedRequest(rawURL, method string, signedHeaders http.Header, signedAt time.Time, expires time.Duration) mediatrail.PresignedRequest {
	headers := make(map[string]string, len(signedHeaders))
	for k, v := range signedHeaders {
		if strings.EqualFold(k, "Host") || len(v) == 0 {
			continue
		}
		headers[http.CanonicalHeaderKey(k)] = strings.Join(v, ",")
	}
	return mediatrail.PresignedRequest{URL: rawURL, Method: method, Headers: headers, ExpiresAt: signedAt.Add(expires)}
}

// presigned converts a request the SDK's PresignClient signed; its signing
// time is the URL's X-Amz-Date.
func presigned(req *v4.PresignedHTTPRequest, expires time.Duration) mediatrail.PresignedRequest {
	signedAt := time.Now().UTC().Truncate(time.Second)
	if u, err := url.Parse(req.URL); err == nil {
		if t, err := time.Parse(amzDateLayout, u.Query().Get("X-Amz-Date")); err == nil {
			signedAt = t
		}
	}
	return presignedRequest(req.URL, req.Method, req.SignedHeader, signedAt, expires)
}
