package cli

import (
	"bytes"
	"context"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/spf13/cobra"
)

// commandPaths lists every command of the tree (cobra's completion commands
// included) by the arguments that name it, e.g. ["release", "info"].
func commandPaths(t *testing.T) [][]string {
	t.Helper()
	root := NewRootCommand()
	var started bool
	prepareTree(root, &started)
	var paths [][]string
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		paths = append(paths, path)
		for _, sub := range c.Commands() {
			walk(sub, append(slices.Clone(path), sub.Name()))
		}
	}
	walk(root, nil)
	for _, want := range []string{"release info", "completion bash", "version"} {
		if !slices.ContainsFunc(paths, func(p []string) bool { return strings.Join(p, " ") == want }) {
			t.Fatalf("the command tree lacks %q", want)
		}
	}
	return paths
}

// withoutOutput are the commands that print no report, so have no -o: the
// operator logs, completion prints a shell script, help prints help, and
// the lab commands print progress.
var withoutOutput = []string{
	"operator", "control-plane-operator", "help", "completion", "completion bash", "completion zsh", "completion fish", "completion powershell",
	"demo", "registry serve", "release publish",
	"ignition-server", // a server: it logs
	"catalog-server",  // a server: it logs
}

// TestOutputFlagEverywhere checks that -o is the output format on every
// command that prints a report, declared by the one flag group (its usage
// text and completion).
func TestOutputFlagEverywhere(t *testing.T) {
	root := NewRootCommand()
	var started bool
	prepareTree(root, &started)
	for _, path := range commandPaths(t) {
		name := strings.Join(path, " ")
		cmd, _, err := root.Find(path)
		if err != nil {
			t.Fatal(err)
		}
		if !cmd.Runnable() || cmd.HasSubCommands() || slices.Contains(withoutOutput, name) {
			continue
		}
		f := cmd.Flags().Lookup("output")
		if f == nil || f.Shorthand != "o" || !strings.HasPrefix(f.Usage, "output format: ") {
			t.Errorf("hcpmirror %s: no -o/--output output format flag from outputFlags", name)
			continue
		}
		if !strings.Contains(cmd.Use, "-o ") {
			t.Errorf("hcpmirror %s: the usage line %q does not show -o", name, cmd.Use)
		}
		if strings.Contains(f.Usage, formatJSON) && !strings.Contains(f.Usage, formatYAML) {
			t.Errorf("hcpmirror %s: -o offers json but not yaml: %s", name, f.Usage)
		}
	}
}

// TestHelpBooleanFlags checks that help prints boolean flags as kubectl does,
// "-q, --quiet", on every command.
func TestHelpBooleanFlags(t *testing.T) {
	for _, path := range commandPaths(t) {
		code, got := runHcpmirror(t, append(slices.Clone(path), "--help"), nil)
		if code != 0 {
			t.Errorf("hcpmirror %s --help: exit %d", strings.Join(path, " "), code)
		}
		if strings.Contains(got, "[=true|false]") {
			t.Errorf("hcpmirror %s --help prints a boolean flag with [=true|false]:\n%s", strings.Join(path, " "), got)
		}
	}
	_, got := runHcpmirror(t, []string{"verify", "--help"}, nil)
	if !strings.Contains(got, "  -q, --quiet   ") {
		t.Errorf("verify --help does not show -q, --quiet:\n%s", got)
	}
	// The flag still works without a value, and with one.
	for _, args := range [][]string{{"render", "--crds"}, {"render", "--crds=false"}} {
		if code, got := runHcpmirror(t, args, nil); code != 0 {
			t.Errorf("hcpmirror %v: exit %d\n%s", args, code, got)
		}
	}
}

// TestCompletion checks the completion scripts and the completion of flag
// values: -o formats, --format, -f files and directories, --output-dir.
func TestCompletion(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish"} {
		code, got := runHcpmirror(t, []string{"completion", shell}, nil)
		if code != 0 || !strings.Contains(got, "hcpmirror") || len(got) < 1000 {
			t.Errorf("completion %s: exit %d, %d bytes", shell, code, len(got))
		}
	}
	tests := []struct {
		args []string
		want string // the candidates and directive, as cobra prints them
	}{
		{[]string{"lint", "-o", ""}, "text\njson\nyaml\n:4\n"},
		{[]string{"render", "--output", ""}, "yaml\njson\n:4\n"},
		{[]string{"overrides", "--format", ""}, "flag\tthe value of --registry-overrides\nenv\tthe value of OPENSHIFT_IMG_OVERRIDES\n:4\n"},
		// Directive 8 filters by extension (directories are offered too).
		{[]string{"resolve", "-f", ""}, "yaml\nyml\njson\n:8\n"},
		{[]string{"merge", "--filename", ""}, "yaml\nyml\njson\n:8\n"},
		// Directive 16: directories only.
		{[]string{"merge", "--output-dir", ""}, ":16\n"},
		{[]string{"convert", "--to", ""}, "idms\n:4\n"},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		Execute(context.Background(), append([]string{cobra.ShellCompRequestCmd}, tt.args...), nil, &stdout, &stderr)
		if stdout.String() != tt.want {
			t.Errorf("completing hcpmirror %v = %q, want %q", tt.args, stdout.String(), tt.want)
		}
	}
}

// TestExecuteInterrupted checks that a run whose context a signal cancelled
// is reported as interrupted with 128+N, even when the command succeeded.
func TestExecuteInterrupted(t *testing.T) {
	for _, tt := range []struct {
		cause error
		want  int
	}{
		{Interrupt{Signal: os.Interrupt}, 130},
		{Interrupt{Signal: syscall.SIGTERM}, 143},
		{nil, 130}, // cancelled, cause unknown
	} {
		ctx, cancel := context.WithCancelCause(context.Background())
		cancel(tt.cause)
		var stdout, stderr bytes.Buffer
		code := Execute(ctx, []string{"version"}, nil, &stdout, &stderr)
		if code != tt.want || stderr.String() != "hcpmirror: interrupted\n" {
			t.Errorf("cause %v: exit %d, stderr %q; want %d and interrupted", tt.cause, code, stderr.String(), tt.want)
		}
	}
}

// TestExitStatus checks that usage errors exit 2 with the usage line, and
// problems the command found exit 1 without it.
func TestExitStatus(t *testing.T) {
	tests := []struct {
		args []string
		want int
	}{
		{[]string{"nonsense"}, exitUsage},
		{[]string{"release", "nonsense"}, exitUsage},
		{[]string{"completion", "tcsh"}, exitUsage},
		{[]string{"lint", "-f", resolveSets, "--no-such-flag"}, exitUsage},
		{[]string{"verify", "--concurrency", "many"}, exitUsage},
		{[]string{"version", "extra"}, exitUsage},
		{[]string{"version", "-o", "xml"}, exitUsage},
		{[]string{"render", "-o", "text"}, exitUsage},
		{[]string{"status", "--registry-overrides", "no-equals-sign"}, exitUsage},
		{[]string{"operator", "--registry-overrides", "no-equals-sign"}, exitUsage},
		{[]string{"--version", "extra"}, exitUsage},
		{[]string{"lint", "-f", "testdata/lint/broken"}, exitProblem},
		{[]string{"resolve", "-f", "testdata/resolve/missing.yaml", "quay.io/a/b"}, exitProblem},
		{[]string{"release"}, 0}, // a command group alone prints its help
		{[]string{"version", "-o", "yaml"}, 0},
		{[]string{"--version"}, 0},
		{[]string{}, 0}, // the root alone prints its help
	}
	for _, tt := range tests {
		code, got := runHcpmirror(t, tt.args, nil)
		if code != tt.want {
			t.Errorf("exit %d, want %d:\n%s", code, tt.want, got)
		}
		usage := strings.Contains(got, "\nusage: hcpmirror ") && strings.Contains(got, " --help'\n")
		if usage != (tt.want == exitUsage) {
			t.Errorf("usage line and --help hint printed: %v, want %v:\n%s", usage, tt.want == exitUsage, got)
		}
	}
}
