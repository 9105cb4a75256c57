package catalog

import "testing"

func TestParseVersion(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // "" means an error
	}{
		{"1.2.3", "1.2.3"},
		{"v1.2.3", "1.2.3"},
		{"4.16", "4.16.0"},
		{"5", "5.0.0"},
		{"1.2.3-rc.1", "1.2.3-rc.1"},
		{"26.0.8-opr.1", "26.0.8-opr.1"},
		{"1.2.3+build.5", "1.2.3"},
		{"1.2.3-alpha+sha.1", "1.2.3-alpha"},
		{"", ""},
		{"1.2.3.4", ""},
		{"01.2.3", ""},
		{"1.2.x", ""},
		{"1.2.3-", ""},
		{"1.2.3-01", ""},
		{"1.2.3-a..b", ""},
		{"1.2.3+", ""},
		{"1.2.3-é", ""},
	} {
		v, err := parseVersion(tc.in)
		if tc.want == "" {
			if err == nil {
				t.Errorf("parseVersion(%q) = %v, want an error", tc.in, v)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseVersion(%q): %v", tc.in, err)
			continue
		}
		w, _ := parseVersion(tc.want)
		if v.compare(w) != 0 {
			t.Errorf("parseVersion(%q) = %+v, want %s", tc.in, v, tc.want)
		}
	}
}

// TestVersionOrder checks semver.org's precedence example, in order.
func TestVersionOrder(t *testing.T) {
	order := []string{
		"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
		"1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.1.0", "1.10.0", "2.0.0", "10.0.0",
	}
	for i := range order {
		for j := range order {
			a, _ := parseVersion(order[i])
			b, _ := parseVersion(order[j])
			got := a.compare(b)
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got != want {
				t.Errorf("compare(%s, %s) = %d, want %d", order[i], order[j], got, want)
			}
		}
	}
}

func TestRange(t *testing.T) {
	v := func(s string) *version { x, _ := parseVersion(s); return &x }
	for _, tc := range []struct {
		min, max, v string
		want        bool
	}{
		{"1.0.0", "", "1.0.0", true},
		{"1.0.0", "", "0.9.9", false},
		{"", "2.0.0", "2.0.0", true},
		{"", "2.0.0", "2.0.1", false},
		{"1.0.0", "2.0.0", "1.5.0", true},
		{"1.0.0", "2.0.0", "2.0.0-rc.1", true}, // a pre-release is below its release
		{"1.0.0", "2.0.0", "1.0.0-rc.1", false},
		{"4.16", "4.16", "4.16.0", true},
	} {
		r, err := newRange(tc.min, tc.max)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.contains(v(tc.v)); got != tc.want {
			t.Errorf("[%s, %s] contains %s = %v, want %v", tc.min, tc.max, tc.v, got, tc.want)
		}
	}
	if _, err := newRange("2.0.0", "1.0.0"); err == nil {
		t.Error("newRange(2.0.0, 1.0.0): want an error")
	}
	if _, err := newRange("latest", ""); err == nil {
		t.Error(`newRange("latest", ""): want an error`)
	}
}
