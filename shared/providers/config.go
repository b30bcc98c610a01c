package providers

import (
	"slices"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// Config keys each client takes, by provider and capability: the entries it
// reads itself (voice_id, output_format, input_key, ...) and the ones it
// passes on as the provider names them (providers.md; for fal and Replicate
// the inputs of the default models and of the models the README names).
// A media call with any other key is refused before the provider is called
// (mediatrail.ConfigKeyed), so that a typo is never sent on or dropped.
//
// The fields a client sets itself (model, prompt, text, input, file, image,
// the input image's field) are not here: the request's own fields win over
// config.
var configKeys = map[string]map[mediatrail.Capability][]string{
	"openai": {
		mediatrail.CapabilityTTS:       {"voice", "speed", "instructions", "response_format"},
		mediatrail.CapabilitySTT:       {"language", "prompt", "response_format", "temperature", "timestamp_granularities[]", "chunking_strategy", "include[]"},
		mediatrail.CapabilityImageGen:  {"n", "size", "quality", "style", "response_format", "output_format", "output_compression", "background", "moderation", "user"},
		mediatrail.CapabilityImageEdit: {"n", "size", "quality", "response_format", "output_format", "output_compression", "background", "input_fidelity", "user"},
	},
	"elevenlabs": {
		mediatrail.CapabilityTTS: {"voice_id", "voice", "output_format", "language_code", "voice_settings", "seed",
			"apply_text_normalization", "previous_text", "next_text", "pronunciation_dictionary_locators"},
		mediatrail.CapabilitySTT: {"language_code", "diarize", "num_speakers", "timestamps_granularity", "tag_audio_events", "additional_formats"},
	},
	"deepgram": {
		mediatrail.CapabilitySTT: {"smart_format", "punctuate", "diarize", "multichannel", "language", "detect_language", "paragraphs",
			"utterances", "utt_split", "numerals", "profanity_filter", "redact", "keyterm", "keywords", "filler_words"},
		mediatrail.CapabilityTTS: {"encoding", "container", "sample_rate", "bit_rate"},
	},
	"stability": {
		mediatrail.CapabilityImageGen:  {"negative_prompt", "aspect_ratio", "seed", "style_preset", "output_format", "cfg_scale"},
		mediatrail.CapabilityImageEdit: {"search_prompt", "grow_mask", "negative_prompt", "seed", "style_preset", "output_format"},
	},
	"fal": {
		mediatrail.CapabilityImageGen:       append(slices.Clone(falImageKeys), "input_key"), // a reference image
		mediatrail.CapabilityImageEdit:      append(slices.Clone(falImageKeys), "strength", "input_key"),
		mediatrail.CapabilityVideoGen:       falVideoKeys,
		mediatrail.CapabilityVideoFromImage: append(slices.Clone(falVideoKeys), "input_key"),
	},
	"pika": {
		mediatrail.CapabilityVideoGen:       falVideoKeys,
		mediatrail.CapabilityVideoFromImage: append(slices.Clone(falVideoKeys), "input_key"),
	},
	"replicate": {
		mediatrail.CapabilityImageGen:       append(slices.Clone(replicateImageKeys), "input_key"), // FLUX's image_prompt
		mediatrail.CapabilityImageEdit:      append(slices.Clone(replicateImageKeys), "strength", "prompt_strength", "input_key"),
		mediatrail.CapabilityVideoGen:       replicateVideoKeys,
		mediatrail.CapabilityVideoFromImage: append(slices.Clone(replicateVideoKeys), "input_key"),
	},
	"runway": {
		mediatrail.CapabilityVideoGen:       runwayKeys,
		mediatrail.CapabilityVideoFromImage: runwayKeys,
	},
	"luma": {
		mediatrail.CapabilityVideoGen:       {"aspect_ratio", "resolution", "duration", "loop"},
		mediatrail.CapabilityVideoFromImage: {"aspect_ratio", "resolution", "duration", "loop", "keyframes"},
	},
}

var (
	// falImageKeys: the inputs of fal's FLUX models (dev, schnell, pro v1.1, ultra).
	falImageKeys = []string{"image_size", "aspect_ratio", "num_inference_steps", "guidance_scale", "num_images", "seed",
		"enable_safety_checker", "safety_tolerance", "output_format", "raw", "acceleration"}
	// falVideoKeys: the inputs of Pika v2.2 and Kling on fal.
	falVideoKeys = []string{"aspect_ratio", "resolution", "duration", "negative_prompt", "seed", "cfg_scale"}
	// replicateImageKeys: the inputs of the FLUX models on Replicate
	// (schnell, dev, 1.1-pro, kontext-pro).
	replicateImageKeys = []string{"aspect_ratio", "num_outputs", "seed", "output_format", "output_quality", "go_fast", "megapixels",
		"num_inference_steps", "guidance", "width", "height", "disable_safety_checker", "safety_tolerance", "prompt_upsampling"}
	// replicateVideoKeys: the inputs of minimax/video-01 and its peers.
	replicateVideoKeys = []string{"prompt_optimizer", "aspect_ratio", "duration", "resolution", "seed", "negative_prompt"}
	// runwayKeys: the camelCase body fields besides the model, prompt and image.
	runwayKeys = []string{"ratio", "duration", "seed", "contentModeration"}
)

// ConfigKeys are the config keys the client takes for c (configKeys), for
// mediatrail.ConfigKeyed.
func (p *provider) ConfigKeys(c mediatrail.Capability) []string {
	return slices.Clone(configKeys[p.name][c])
}
