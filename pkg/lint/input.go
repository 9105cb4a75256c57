package lint

import "strings"

// CodeInput is the finding for input that could not be read, or that holds
// nothing to lint: nothing read means nothing checked, which must never
// read as a clean report.
const CodeInput = "HCM032"

// InputFindings turns what went wrong reading the inputs into findings
// (HCM032, errors), so that the report itself says so and its summary never
// reads "0 errors" for input that was not read: one finding per problem in
// err (each error of an errors.Join), and one when the inputs held no mirror
// set and no HostedCluster (found is how many they held) although paths
// were given. Each finding's object is the file the problem starts with.
func InputFindings(paths []string, found int, err error) []Finding {
	var out []Finding
	for _, e := range flatten(err) {
		object, msg, ok := strings.Cut(e.Error(), ": ")
		if !ok {
			object, msg = "input", e.Error()
		}
		out = append(out, newFinding(CodeInput, object, "", msg))
	}
	if err == nil && len(paths) > 0 && found == 0 {
		out = append(out, newFinding(CodeInput, strings.Join(paths, ", "), "",
			"no mirror sets found in the inputs (no ImageContentSourcePolicy, ImageDigestMirrorSet, ImageTagMirrorSet or HostedCluster): nothing was checked"))
	}
	return out
}

// flatten lists the errors of nested errors.Join values, in order.
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range j.Unwrap() {
		out = append(out, flatten(e)...)
	}
	return out
}
