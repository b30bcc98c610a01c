package providers

import (
	"context"
	"net/http"
	"regexp"
	"strings"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// Stability draws (image_gen) and edits images (image_edit).
//
// Models for image_gen: core (default), ultra, or an SD3 model (sd3.5-large,
// sd3.5-medium, ...). For image_edit the model names the edit endpoint:
// search-and-replace (the default when Config has search_prompt), inpaint (the
// default otherwise), or another /v2beta/stable-image/edit operation. Config
// entries are sent as form fields (negative_prompt, aspect_ratio, seed,
// output_format, search_prompt, grow_mask, ...).
type Stability struct{ *provider }

var stability = spec{
	name: "stability", keyEnv: "STABILITY_API_KEY", baseEnv: "STABILITY_BASE_URL",
	baseURL: "https://api.stability.ai", authHeader: "Authorization", authScheme: "Bearer ",
	caps: []mediatrail.Capability{mediatrail.CapabilityImageGen, mediatrail.CapabilityImageEdit},
}

var stabilityEdit = regexp.MustCompile(`^[a-z][a-z-]{0,63}$`)

// NewStability returns the Stability client.
func NewStability(cfg Config) *Stability { return &Stability{newProvider(stability, cfg)} }

// Generate posts a multipart form and asks for the image bytes (Accept: image/*).
// A 200 whose finish-reason is CONTENT_FILTERED carries a blurred image: it is
// answered as a ProviderFiltered error, not as media.
func (s *Stability) Generate(ctx context.Context, req mediatrail.MediaRequest) (*mediatrail.MediaResult, error) {
	if err := s.check(req, false); err != nil {
		return nil, err
	}
	o := optionsOf(req.Config)
	f := newForm()
	var path, m string
	if req.Capability == mediatrail.CapabilityImageGen {
		switch m = model(req, "core"); {
		case m == "core" || m == "stable-image-core":
			path, m = "generate/core", "stable-image-core"
		case m == "ultra" || m == "stable-image-ultra":
			path, m = "generate/ultra", "stable-image-ultra"
		case m == "sd3":
			path = "generate/sd3"
		case strings.HasPrefix(m, "sd3"):
			path = "generate/sd3"
			f.set("model", m)
		default:
			return nil, mediatrail.Invalid("model", "provider stability has no image model %q (core, ultra, sd3.5-large, ...)", m)
		}
	} else {
		def := "inpaint"
		if _, ok := o["search_prompt"]; ok {
			def = "search-and-replace"
		}
		if m = model(req, def); !stabilityEdit.MatchString(m) {
			return nil, mediatrail.Invalid("model", "provider stability has no edit %q (search-and-replace, inpaint, ...)", m)
		}
		path = "edit/" + m
		in, err := s.inputFile(ctx, req.Input)
		if err != nil {
			return nil, err
		}
		f.file("image", in)
	}
	f.set("prompt", req.Prompt)
	f.setAll(o)
	c := f.call(http.MethodPost, "/v2beta/stable-image/"+path)
	c.accept = "image/*"
	res, h, err := s.media(ctx, c, "image")
	if err != nil {
		return nil, err
	}
	if reason := h.Get("finish-reason"); strings.EqualFold(reason, "CONTENT_FILTERED") {
		res.Body.Close()
		return nil, &mediatrail.ProviderError{Provider: s.name, Status: http.StatusOK, Code: mediatrail.ProviderFiltered, Message: "the output was withheld by content moderation", RequestID: res.RequestID}
	}
	res.Model = m
	res.Usage = mediatrail.Usage{Quantity: 1, Unit: mediatrail.UnitImage}
	res.Metadata = map[string]any{"finish_reason": h.Get("finish-reason")}
	if seed := h.Get("seed"); seed != "" {
		res.Metadata["seed"] = seed
	}
	return res, nil
}
