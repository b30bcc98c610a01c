// Package local is the provider named "local": media made on this machine
// with open-source tools, so that the whole product works without any
// provider account. It goes through the same paths as the paid providers
// (assets, spans, prices, at a price of 0).
//
//	tts         espeak-ng (Debian espeak-ng) → WAV; MP3, Opus or FLAC through ffmpeg
//	stt         ffmpeg → 16 kHz mono WAV → pocketsphinx with its en-us model
//	            (Debian pocketsphinx, pocketsphinx-en-us); words with times
//	image_gen   drawn in Go: a seeded generative background and the prompt
//	image_edit  Go image operations named in the prompt
//	video_gen, video_from_image
//	            ffmpeg (libx264): a slow zoom and pan over the image_gen
//	            frame of the prompt or the input image, as a job whose
//	            handle carries the request; rendered when Store reads it
//
// Tools are found on PATH. A missing tool is EUNAVAILABLE naming the Debian
// package that provides it (scripts/setup.sh installs them). Tools run with
// exec.CommandContext under a time bound, in a temporary directory removed
// afterwards; user text reaches them through standard input or files, never
// as a command-line word, and a caller's media reaches ffmpeg only through an
// explicitly named demuxer reading a local file.
package local
