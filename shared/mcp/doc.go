// Package mcp serves the media tools over the Model Context Protocol, so that
// agents attach them as tools: a stateless Streamable HTTP server built on the
// official Go SDK, behind the HTTP API's POST /mcp as one Lambda (any warm
// instance answers any request; GET and DELETE answer 405).
//
// It is an adapter like httpapi: it authenticates the caller with the same
// key resolution (X-API-Key or Authorization: Bearer), reads the caller's run
// (agent, execution, W3C trace context) from headers and _meta, and calls the
// domain services; it holds no media, asset or job logic of its own.
package mcp
