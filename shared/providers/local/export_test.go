package local

// Internal parsers, for the external tests.
var (
	ParseClassic    = parseClassic
	ParseJSONLines  = parseJSONLines
	ParseOperations = func(prompt string) ([]string, error) {
		ops, err := parseOperations(prompt, MaxImagePixels)
		var texts []string
		for _, op := range ops {
			texts = append(texts, op.text)
		}
		return texts, err
	}
)
