// Package e2e holds end-to-end tests of mediatrail: the template's API served
// by the local stack over the real emulators, every media provider replaced by
// its fake from shared/providers/fake, driven only through HTTP as an SDK
// client would. It has no non-test code.
package e2e
