// Package memory holds in-memory implementations of the domain's store
// interfaces, for the use cases' unit tests: the same contracts as the
// DynamoDB adapter (workspace scoping, conditional writes on versions,
// ECONFLICT and ENOTFOUND), in a map, with hooks that inject a concurrent
// writer's change or a failure at a chosen call. Not for production: nothing
// is durable and the listings are not paged.
package memory
