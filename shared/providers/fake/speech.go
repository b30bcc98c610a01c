package fake

// Transcript is what every fake hears in any audio, with its word times.
const Transcript = "Hello world."

// TranscriptSeconds is the length of the audio every fake hears.
const TranscriptSeconds = 1.25

type word struct {
	text, punctuated string
	start, end       float64
}

var words = []word{{"hello", "Hello", 0.08, 0.48}, {"world", "world.", 0.56, 1.1}}
