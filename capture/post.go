package capture

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
)

// -z runs a program on every closed file, as tcpdump's postrotate-command:
// exec'd directly with the file's absolute path as its only argument, no
// shell, so no name can inject anything (ring names start with "/"; a
// name with spaces or quotes stays one argument). The runs and the ring's
// removals of old files go through one queue, one at a time and in
// order, so a file is never removed while its -z still reads it, and the
// capture never waits for -z: a slow -z only lets the queue grow.

// PostRotateResult is what -z did.
type PostRotateResult struct {
	Command string `json:"command"`
	// Ran counts the files -z ran on (exit 0 or not).
	Ran int `json:"ran"`
	// Failures counts the runs that failed; Failed lists the first 20.
	Failures int           `json:"failures"`
	Failed   []PostFailure `json:"failed,omitempty"`
	// Unfinished are files whose -z was still running or not started
	// when gzdoctor stopped waiting (a second Ctrl+C).
	Unfinished []string `json:"unfinished,omitempty"`
}

// PostFailure is one -z run that failed: it could not start, or exited
// non-zero or on a signal. The file is left as it was.
type PostFailure struct {
	File   string `json:"file"`
	Status string `json:"status"`
	// Output is the last line the command printed (stdout and stderr).
	Output string `json:"output,omitempty"`
}

type postJob struct {
	path   string
	remove bool
}

type postRunner struct {
	cmd string // "" when no -z: only removals

	mu      sync.Mutex
	queue   []postJob
	current string
	closed  bool
	wake    chan struct{}
	done    chan struct{}
	res     PostRotateResult
	rmErrs  []string
	// removed and gone are the ring's removals done, and those that
	// found nothing: -z had moved or renamed the file (gzip).
	removed, gone int
	gonePaths     []string
}

// maxPostFailures bounds the failures kept: a -z that fails on every file
// of a week-long ring says so in a few lines.
const maxPostFailures = 20

func newPostRunner(cmd string) *postRunner {
	r := &postRunner{cmd: cmd, wake: make(chan struct{}, 1), done: make(chan struct{}), res: PostRotateResult{Command: cmd}}
	go r.loop()
	return r
}

func (r *postRunner) push(j postJob) {
	r.mu.Lock()
	r.queue = append(r.queue, j)
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// run queues -z on a closed file (nothing without -z).
func (r *postRunner) run(path string) {
	if r.cmd != "" {
		r.push(postJob{path: path})
	}
}

// remove queues the removal of a file the ring no longer keeps, after
// every -z queued before it.
func (r *postRunner) remove(path string) { r.push(postJob{path: path, remove: true}) }

func (r *postRunner) loop() {
	defer close(r.done)
	for {
		r.mu.Lock()
		if len(r.queue) == 0 {
			closed := r.closed
			r.mu.Unlock()
			if closed {
				return
			}
			<-r.wake
			continue
		}
		j := r.queue[0]
		r.queue = r.queue[1:]
		r.current = j.path
		r.mu.Unlock()
		if j.remove {
			// -z may have moved the file (gzip): then it is gone already.
			err := os.Remove(j.path)
			r.mu.Lock()
			switch {
			case err == nil:
				r.removed++
			case errors.Is(err, fs.ErrNotExist):
				r.gone++
				if len(r.gonePaths) < maxPostFailures {
					r.gonePaths = append(r.gonePaths, j.path)
				}
			default:
				r.rmErrs = append(r.rmErrs, err.Error())
			}
			r.mu.Unlock()
		} else {
			f := r.exec(j.path)
			r.mu.Lock()
			r.res.Ran++
			if f != nil {
				r.res.Failures++
				if len(r.res.Failed) < maxPostFailures {
					r.res.Failed = append(r.res.Failed, *f)
				}
			}
			r.mu.Unlock()
		}
		r.mu.Lock()
		r.current = ""
		r.mu.Unlock()
	}
}

// exec runs -z on one file and waits for it.
func (r *postRunner) exec(path string) *PostFailure {
	cmd := exec.Command(r.cmd, path)
	var out tailBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// Its own process group: the terminal's Ctrl+C, meant for the
	// capture, does not cut a gzip half-way through a file.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err := cmd.Run()
	if err == nil {
		return nil
	}
	f := &PostFailure{File: path, Status: err.Error(), Output: out.lastLine()}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		f.Status = "could not start: " + err.Error()
	}
	return f
}

// busy is the file -z works on now, and how many jobs wait.
func (r *postRunner) busy() (string, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.current, len(r.queue)
}

// close says no more jobs come; done is closed once the queue is empty.
func (r *postRunner) close() {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// result is what -z did so far; with unfinished, the files still queued
// or running are listed as such.
func (r *postRunner) result(unfinished bool) (*PostRotateResult, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	res := r.res
	res.Failed = append([]PostFailure(nil), r.res.Failed...)
	if unfinished {
		if r.current != "" {
			res.Unfinished = append(res.Unfinished, r.current)
		}
		for _, j := range r.queue {
			if !j.remove {
				res.Unfinished = append(res.Unfinished, j.path)
			}
		}
		// Nothing more starts: gzdoctor is about to exit.
		r.queue = nil
	}
	return &res, append([]string(nil), r.rmErrs...)
}

// tailBuffer keeps the last 4 KiB written to it.
type tailBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > 4096 {
		t.b = t.b[len(t.b)-4096:]
	}
	return len(p), nil
}

func (t *tailBuffer) lastLine() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := strings.Split(strings.TrimSpace(string(bytes.ToValidUTF8(t.b, []byte("?")))), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// words is the summary's -z line.
func (p *PostRotateResult) words() string {
	s := fmt.Sprintf("-z %s ran on %d file", p.Command, p.Ran)
	if p.Ran != 1 {
		s += "s"
	}
	if n := p.Failures; n > 0 {
		s += fmt.Sprintf(", %d failed", n)
	}
	return s
}
