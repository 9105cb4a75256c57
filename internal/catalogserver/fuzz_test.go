package catalogserver

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/operator-framework/operator-registry/pkg/api"
)

// FuzzDecodeRequest checks the request decoder against protobuf-go decoding
// operator-registry's generated GetBundleRequest (three string fields, the
// widest request of the API): both accept the same inputs and read the
// same fields. Finds are kept in testdata/fuzz.
func FuzzDecodeRequest(f *testing.F) {
	for _, seed := range [][]byte{
		nil,
		encodeBundleRequest("etcd", "stable", "etcd.v1.0.0"),
		append(encodeBundleRequest("a", "", ""), encodeBundleRequest("b", "c", "")...), // last one wins
		{0x0a, 0x02, 0xff, 0xfe},             // invalid UTF-8
		{0x0a, 0x05, 'a'},                    // truncated
		{0x08, 0x01, 0x0a, 0x01, 'x'},        // field 1 as a varint, then as a string
		{0x22, 0x01, 'z', 0x1a, 0x01, 'y'},   // unknown field 4
		{0x0b, 0x0c},                         // a group
		{0x80, 0x80, 0x80, 0x80, 0x80, 0x80}, // a runaway varint tag
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got := make([]string, 3)
		err := decodeStrings(data, got)
		var want api.GetBundleRequest
		werr := proto.Unmarshal(data, &want)
		if (err == nil) != (werr == nil) {
			t.Fatalf("decodeStrings(%x) error %v, protobuf-go error %v", data, err, werr)
		}
		if err != nil {
			return
		}
		if got[0] != want.PkgName || got[1] != want.ChannelName || got[2] != want.CsvName {
			t.Fatalf("decodeStrings(%x) = %q, protobuf-go reads %q %q %q", data, got, want.PkgName, want.ChannelName, want.CsvName)
		}
	})
}

func encodeBundleRequest(pkg, ch, csv string) []byte {
	b := appendString(nil, 1, pkg)
	b = appendString(b, 2, ch)
	return appendString(b, 3, csv)
}
