package lint

import "github.com/hcpmirror/hcpmirror/pkg/overrides"

// Objects named by override-string findings: the flag and the variable as
// they appear in a Deployment.
const (
	flagObject = "--registry-overrides"
	envObject  = "OPENSHIFT_IMG_OVERRIDES"
)

// LintOverrides checks a --registry-overrides value and an
// OPENSHIFT_IMG_OVERRIDES value, as found on a hosted control plane
// Deployment or about to be written there, for what HyperShift's readers
// reject, drop or distort (HCM025) and for duplicates (HCM015). An empty
// string means "not given" and is not checked; use LintFlag to check an
// empty flag value, which its reader rejects.
func LintOverrides(flag, env string) []Finding {
	var out []Finding
	if flag != "" {
		out = append(out, LintFlag(flag)...)
	}
	if env != "" {
		out = append(out, LintEnv(env)...)
	}
	return out
}

// LintFlag checks one --registry-overrides value, even an empty one.
func LintFlag(value string) []Finding {
	return issueFindings(flagObject, overrides.FlagIssues(value))
}

// LintEnv checks one OPENSHIFT_IMG_OVERRIDES value.
func LintEnv(value string) []Finding {
	return issueFindings(envObject, overrides.EnvIssues(value))
}

func issueFindings(object string, issues []overrides.Issue) []Finding {
	out := make([]Finding, 0, len(issues))
	for _, is := range issues {
		out = append(out, newFinding(is.Code, object, "", is.Message))
	}
	return out
}
