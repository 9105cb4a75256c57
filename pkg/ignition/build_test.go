package ignition

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestBuild(t *testing.T) {
	mc := func(name, body string) string {
		return "apiVersion: machineconfiguration.openshift.io/v1\nkind: MachineConfig\nmetadata:\n  name: " + name + "\nspec:\n  config:\n" + body
	}
	for _, tc := range []struct {
		name      string
		in        Inputs
		files     map[string]string // path -> contents
		order     []string
		skipped   int
		users     map[string][]string
		errSubstr string
	}{
		{
			name: "every part, in order",
			in: Inputs{
				MCOFiles:       map[string][]byte{"etc/b": []byte("b"), "etc/a": []byte("a")},
				RegistriesConf: []byte("rc"),
				PullSecret:     []byte("{}"),
				TrustBundle:    []byte("pem"),
			},
			files: map[string]string{"/etc/a": "a", "/etc/b": "b", RegistriesConfPath: "rc", PullSecretPath: "{}", TrustBundlePath: "pem"},
			order: []string{"/etc/a", "/etc/b", RegistriesConfPath, PullSecretPath, TrustBundlePath},
		},
		{
			name: "a MachineConfig replaces an MCO file and adds keys",
			in: Inputs{
				MCOFiles: map[string][]byte{"etc/motd": []byte("from mco")},
				MachineConfigs: []byte(mc("one", "    ignition: {version: 3.2.0}\n    storage:\n      files:\n      - path: /etc/motd\n        contents: {source: 'data:,from%20np'}\n    passwd:\n      users:\n      - {name: core, sshAuthorizedKeys: [k1]}\n") +
					"\n---\n" + mc("two", "    passwd:\n      users:\n      - {name: core, sshAuthorizedKeys: [k1, k2]}\n")),
			},
			files: map[string]string{"/etc/motd": "from np"},
			order: []string{"/etc/motd"},
			users: map[string][]string{"core": {"k1", "k2"}},
		},
		{
			name:    "other kinds and empty documents are skipped",
			in:      Inputs{MachineConfigs: []byte("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n---\n")},
			files:   map[string]string{},
			skipped: 1,
		},
		{
			name:      "relative path",
			in:        Inputs{MachineConfigs: []byte(mc("bad", "    storage:\n      files:\n      - path: etc/x\n"))},
			errSubstr: `config: document 1: MachineConfig "bad": spec.config.storage.files[0].path "etc/x": want an absolute path`,
		},
		{
			name:      "remote contents",
			in:        Inputs{MachineConfigs: []byte(mc("remote", "    storage:\n      files:\n      - path: /etc/x\n        contents: {source: 'https://example.com/x'}\n"))},
			errSubstr: `MachineConfig "remote": spec.config.storage.files[0].contents.source: contents source "https://example.com/x": only data: URLs are supported`,
		},
		{
			name:      "ignition v2",
			in:        Inputs{MachineConfigs: []byte(mc("old", "    ignition: {version: 2.2.0}\n"))},
			errSubstr: `spec.config.ignition.version "2.2.0": want 3.x`,
		},
		{
			name:      "not YAML",
			in:        Inputs{MachineConfigs: []byte("a: [")},
			errSubstr: "config: document 1:",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, skipped, err := Build(tc.in)
			if tc.errSubstr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errSubstr) {
					t.Fatalf("Build() error = %v, want one containing %q", err, tc.errSubstr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Build() = %v", err)
			}
			if cfg.Ignition.Version != Version {
				t.Errorf("version = %q", cfg.Ignition.Version)
			}
			got := map[string]string{}
			var order []string
			if cfg.Storage != nil {
				for _, f := range cfg.Storage.Files {
					b, err := DecodeDataURL(f.Contents.Source)
					if err != nil {
						t.Fatal(err)
					}
					got[f.Path] = string(b)
					order = append(order, f.Path)
				}
			}
			if diff := cmp.Diff(tc.files, got); diff != "" {
				t.Errorf("files (-want +got):\n%s", diff)
			}
			if tc.order != nil && !cmp.Equal(tc.order, order) {
				t.Errorf("order = %q, want %q", order, tc.order)
			}
			if len(skipped) != tc.skipped {
				t.Errorf("skipped = %q, want %d", skipped, tc.skipped)
			}
			if tc.users != nil {
				users := map[string][]string{}
				for _, u := range cfg.Passwd.Users {
					users[u.Name] = u.SSHAuthorizedKeys
				}
				if diff := cmp.Diff(tc.users, users); diff != "" {
					t.Errorf("users (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// TestBuildJSON pins the wire shape nodes read: mode as a decimal number,
// data: URL contents, overwrite true, empty sections omitted.
func TestBuildJSON(t *testing.T) {
	cfg, _, err := Build(Inputs{PullSecret: []byte("{}")})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"ignition":{"version":"3.2.0"},"storage":{"files":[{"path":"/var/lib/kubelet/config.json","mode":384,"overwrite":true,"contents":{"source":"data:;base64,e30="}}]}}`
	if string(b) != want {
		t.Errorf("JSON =\n%s\nwant\n%s", b, want)
	}
}

func TestDecodeDataURL(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{in: "data:;base64,aGk=", want: "hi"},
		{in: "data:text/plain;charset=utf-8;base64,aGk=", want: "hi"},
		{in: "data:,a%20b", want: "a b"},
		{in: "data:,", want: ""},
		{in: "data:;base64,!!", err: "data URL"},
		{in: "data:nocomma", err: "without a comma"},
		{in: "s3://bucket/x", err: "only data: URLs"},
	} {
		got, err := DecodeDataURL(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("DecodeDataURL(%q) error = %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || string(got) != tc.want {
			t.Errorf("DecodeDataURL(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}
