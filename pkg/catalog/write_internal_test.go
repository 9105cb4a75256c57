package catalog

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestQuoteMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `a"b\c`, "<>&", "tab\tnl\ncr\r", "\x00\x1f\x7f", "\u2028\u2029", "ünïcödé", "bad\xffutf8"} {
		var buf bytes.Buffer
		quote(&buf, s)
		got := buf.Bytes()
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Errorf("quote(%q) = %s: not JSON: %v", s, got, err)
			continue
		}
		var want string
		ref, _ := json.Marshal(s)
		_ = json.Unmarshal(ref, &want)
		if back != want {
			t.Errorf("quote(%q) reads back as %q, encoding/json's as %q", s, back, want)
		}
	}
}
