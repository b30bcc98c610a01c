package local

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// options reads a request's config. Values arrive decoded from JSON: numbers
// are float64; numeric strings are accepted too. Every reader returns EINVALID
// naming config.<key> for a value of the wrong kind or out of range.
type options map[string]any

func invalidOption(key, format string, args ...any) error {
	return mediatrail.Invalid("config."+key, "config.%s %s", key, fmt.Sprintf(format, args...))
}

// number is the value of key, def when absent, within [lo, hi].
func (o options) number(key string, def, lo, hi float64) (float64, error) {
	v, ok := o[key]
	if !ok || v == nil {
		return def, nil
	}
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case int:
		f = float64(x)
	case int64:
		f = float64(x)
	case string:
		var err error
		if f, err = strconv.ParseFloat(strings.TrimSpace(x), 64); err != nil {
			return 0, invalidOption(key, "must be a number")
		}
	default:
		return 0, invalidOption(key, "must be a number")
	}
	if math.IsNaN(f) || f < lo || f > hi {
		return 0, invalidOption(key, "must be between %g and %g", lo, hi)
	}
	return f, nil
}

// integer is number restricted to whole values.
func (o options) integer(key string, def, lo, hi int64) (int64, error) {
	f, err := o.number(key, float64(def), float64(lo), float64(hi))
	if err != nil {
		return 0, err
	}
	if f != math.Trunc(f) {
		return 0, invalidOption(key, "must be a whole number")
	}
	return int64(f), nil
}

// choice is the value of key (case ignored), def when absent, one of allowed.
func (o options) choice(key, def string, allowed ...string) (string, error) {
	v, ok := o[key]
	if !ok || v == nil {
		return def, nil
	}
	s, ok := v.(string)
	s = strings.ToLower(strings.TrimSpace(s))
	if !ok || !slices.Contains(allowed, s) {
		return "", invalidOption(key, "must be one of %s", strings.Join(allowed, ", "))
	}
	return s, nil
}

// text is the string value of key, def when absent.
func (o options) text(key, def string) (string, error) {
	v, ok := o[key]
	if !ok || v == nil {
		return def, nil
	}
	s, ok := v.(string)
	if !ok {
		return "", invalidOption(key, "must be a string")
	}
	return strings.TrimSpace(s), nil
}

// configKeys are the config keys each capability reads (see speak,
// transcribe, paint, edit and submitVideo): any other is refused before the
// call (mediatrail.ConfigKeyed).
var configKeys = map[mediatrail.Capability][]string{
	mediatrail.CapabilityTTS:            {"voice", "speed", "pitch", "format"},
	mediatrail.CapabilitySTT:            {"language"},
	mediatrail.CapabilityImageGen:       {"size", "width", "height", "seed", "format"},
	mediatrail.CapabilityImageEdit:      {"format"},
	mediatrail.CapabilityVideoGen:       {"duration", "width", "height", "seed"},
	mediatrail.CapabilityVideoFromImage: {"duration", "width", "height"},
}

// ConfigKeys are the config keys c reads, for mediatrail.ConfigKeyed.
func (p *Provider) ConfigKeys(c mediatrail.Capability) []string { return slices.Clone(configKeys[c]) }
