package testenv

import "strings"

var punctuation = strings.NewReplacer(".", " ", ",", " ", "!", " ", "?", " ", ";", " ", ":", " ")

// WordRecall is the share of want's words found in got, case and punctuation
// ignored, each word of got counted once: how much of a sentence a
// speech-to-text round trip recovered.
func WordRecall(want, got string) float64 {
	have := strings.Fields(strings.ToLower(punctuation.Replace(got)))
	words := strings.Fields(strings.ToLower(punctuation.Replace(want)))
	if len(words) == 0 {
		return 0
	}
	found := 0
	for _, w := range words {
		for i, h := range have {
			if h == w {
				found++
				have = append(have[:i], have[i+1:]...)
				break
			}
		}
	}
	return float64(found) / float64(len(words))
}
