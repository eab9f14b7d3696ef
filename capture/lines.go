package capture

import (
	"bufio"
	"bytes"
	"io"
)

// maxLine bounds one backend line; longer ones are cut.
const maxLine = 64 << 10

// scanLines is a bufio.SplitFunc for a backend's output: lines end at
// "\n", "\r\n" or a lone "\r" (progress lines that rewrite themselves), and
// backspaces (dpdk-dumpcap's counter) end a line too. Empty lines are
// dropped: they carry nothing to show or match.
func scanLines(data []byte, atEOF bool) (advance int, token []byte, err error) {
	start := 0
	for start < len(data) && isBreak(data[start]) {
		if data[start] == '\r' && start+1 == len(data) && !atEOF {
			// Might be the first half of "\r\n"; either way it ends
			// nothing, so wait for more.
			return start, nil, nil
		}
		start++
	}
	if i := bytes.IndexAny(data[start:], "\r\n\b"); i >= 0 {
		return start + i + 1, data[start : start+i], nil
	}
	if atEOF {
		if start < len(data) {
			return len(data), data[start:], nil
		}
		return len(data), nil, nil
	}
	if len(data)-start >= maxLine {
		return len(data), data[start:], nil
	}
	return start, nil, nil
}

func isBreak(c byte) bool { return c == '\n' || c == '\r' || c == '\b' }

// readLines sends every line of r to out, tagged with its stream, until r
// ends; then it sends nothing more and returns.
func readLines(r io.Reader, stream string, out chan<- backendLine) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), maxLine+1)
	sc.Split(scanLines)
	for sc.Scan() {
		out <- backendLine{stream: stream, text: string(sc.Bytes())}
	}
}

// backendLine is one line the backend printed.
type backendLine struct {
	stream string // "stdout" or "stderr"
	text   string
}
