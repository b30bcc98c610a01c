package app

import "github.com/mediatrail/mediatrail/shared/mcp"

// mcpHandler serves POST /mcp: the media tools over MCP, on the same services
// as the HTTP API's routes.
func mcpHandler(a *App) any {
	s := &mcp.Server{Keys: a.Store, Media: a.Media, Jobs: a.Jobs, Assets: a.Assets, Traces: a.Traces, Logger: a.Logger,
		Tools: mcp.AttachedTools(a.Tools)}
	return s.Handler()
}
