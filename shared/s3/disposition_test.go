package s3_test

import (
	"testing"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/s3"
)

func TestContentDisposition(t *testing.T) {
	tests := []struct {
		name        string
		disposition mediatrail.Disposition
		fileName    string
		want        string
		wantCode    string
	}{
		{"default", "", "", "attachment", ""},
		{"inline no name", mediatrail.DispositionInline, "", "inline", ""},
		{"ascii", mediatrail.DispositionAttachment, "report-2024_v1.pdf", `attachment; filename="report-2024_v1.pdf"; filename*=UTF-8''report-2024_v1.pdf`, ""},
		{"quotes and backslash", mediatrail.DispositionInline, `a"b\c.txt`, `inline; filename="c.txt"; filename*=UTF-8''a%22b%5Cc.txt`, ""},
		{"CR LF", "", "x\r\ny.txt", `attachment; filename="x__y.txt"; filename*=UTF-8''x%0D%0Ay.txt`, ""},
		{"unicode", "", "žluťoučký kůň.png", `attachment; filename="_lu_ou_k__k__.png"; filename*=UTF-8''%C5%BElu%C5%A5ou%C4%8Dk%C3%BD%20k%C5%AF%C5%88.png`, ""},
		{"invalid UTF-8", "", "a\xffb", `attachment; filename="a_b"; filename*=UTF-8''a%EF%BF%BDb`, ""},
		{"semicolon and percent", "", "a;b%20c", `attachment; filename="a_b_20c"; filename*=UTF-8''a%3Bb%2520c`, ""},
		{"unknown disposition", "download", "a.txt", "", mediatrail.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s3.ContentDisposition(tt.disposition, tt.fileName)
			if code := mediatrail.ErrorCode(err); code != tt.wantCode {
				t.Fatalf("error code = %q, want %q", code, tt.wantCode)
			}
			if got != tt.want {
				t.Errorf("ContentDisposition = %q, want %q", got, tt.want)
			}
		})
	}
}
