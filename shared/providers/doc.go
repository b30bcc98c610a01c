// Package providers holds the clients of the media providers (providers.md):
// ElevenLabs, Deepgram, OpenAI, Stability, fal (and Pika through fal),
// Replicate, Runway and Luma. Each implements mediatrail.Provider and knows
// nothing of storage, the job store or HTTP routing.
//
// All clients share one plumbing (provider.go, http.go, form.go, input.go):
// requests built as bytes and sent under the one RetryPolicy, one reader for
// every provider's error shape, MIME sniffing of media answers, multipart and
// input handling. And one set of rules:
//
//   - A provider's answer or silence becomes a *mediatrail.ProviderError with
//     the provider's status, code, message and request id; the API key never
//     appears in it. errors.As finds the client-facing *mediatrail.Error in it.
//   - Synchronous results stream (Body) or point at the provider's short-lived
//     URL; the caller copies them into storage. Nothing here fetches an output.
//   - Usage is reported as the provider bills it, for the price table to price.
//
// Package fake serves every provider's API on 127.0.0.1 for tests. Package
// local is the provider "local": media made on this machine with open-source
// tools, registered by FromEnv with no key.
package providers
