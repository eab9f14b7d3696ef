package runbooks

import (
	"strconv"
	"strings"
)

// errnoNames are the errno values DPDK capture failures carry, by number
// and by strerror text (glibc).
var errnoNames = map[int]string{
	1: "EPERM", 2: "ENOENT", 5: "EIO", 11: "EAGAIN", 12: "ENOMEM", 13: "EACCES",
	14: "EFAULT", 16: "EBUSY", 17: "EEXIST", 19: "ENODEV", 22: "EINVAL", 24: "EMFILE",
	28: "ENOSPC", 95: "ENOTSUP", 110: "ETIMEDOUT", 111: "ECONNREFUSED", 114: "EALREADY",
}

var errnoTexts = map[string]string{
	"operation not permitted":          "EPERM",
	"no such file or directory":        "ENOENT",
	"resource temporarily unavailable": "EAGAIN",
	"cannot allocate memory":           "ENOMEM",
	"permission denied":                "EACCES",
	"bad address":                      "EFAULT",
	"device or resource busy":          "EBUSY",
	"file exists":                      "EEXIST",
	"no such device":                   "ENODEV",
	"invalid argument":                 "EINVAL",
	"no space left on device":          "ENOSPC",
	"operation not supported":          "ENOTSUP",
	"connection timed out":             "ETIMEDOUT",
	"connection refused":               "ECONNREFUSED",
	"operation already in progress":    "EALREADY",
	"success":                          "0",
}

// normalizeValue turns an extracted value into its canonical form.
func normalizeValue(kind, v string) string {
	v = strings.TrimSpace(v)
	switch kind {
	case "errno":
		return normalizeErrno(v)
	case "path":
		if len(v) > 1 {
			v = strings.TrimRight(v, "/")
		}
	case "device":
		v = strings.Trim(v, `'",`)
		if isBDF(v) {
			v = strings.ToLower(v)
		}
	case "prefix":
		v = strings.Trim(v, `'"`)
	}
	return v
}

// normalizeErrno: "-22", "22", "Unknown error -22" and "Invalid argument"
// all become EINVAL. DPDK ≤22.11's pdump stores the primary's negative
// errno, which strerror prints as "Unknown error -22".
func normalizeErrno(v string) string {
	s := strings.TrimPrefix(v, "Unknown error ")
	if n, err := strconv.Atoi(s); err == nil {
		if n < 0 {
			n = -n
		}
		if name, ok := errnoNames[n]; ok {
			return name
		}
		return strconv.Itoa(n)
	}
	if name, ok := errnoTexts[strings.ToLower(s)]; ok {
		return name
	}
	return v
}

// isBDF reports whether s looks like a PCI address, full or short.
func isBDF(s string) bool {
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return false
	}
	last := parts[len(parts)-1]
	return len(last) == 4 && last[2] == '.'
}
