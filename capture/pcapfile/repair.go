package pcapfile

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// RepairResult says what Repair found and did.
type RepairResult struct {
	Format  Format `json:"format"`
	Packets int64  `json:"packets"` // intact packets kept
	Size    int64  `json:"size"`    // file size before
	Kept    int64  `json:"kept"`    // bytes kept: the intact prefix
	// Damage describes the first damaged record; empty if the file was
	// intact.
	Damage string `json:"damage,omitempty"`
}

// Truncated reports whether Repair cut the file.
func (r RepairResult) Truncated() bool { return r.Kept < r.Size }

// Scan reads a capture to its end or to its first damage and reports the
// length of the intact prefix. It never modifies the file.
func Scan(rd io.Reader) (RepairResult, error) {
	var res RepairResult
	r, err := NewReader(rd)
	if err != nil {
		var fe *FormatError
		if errors.As(err, &fe) {
			res.Damage = fe.Error()
			return res, err
		}
		return res, err
	}
	res.Format = r.Format()
	var p Packet
	for {
		err := r.Next(&p)
		if err == io.EOF {
			break
		}
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				return res, err
			}
			res.Damage = fe.Error()
			break
		}
		res.Packets++
	}
	res.Kept = r.Offset()
	return res, nil
}

// Repair truncates the capture file at path after its last intact record,
// which is what a writer killed in the middle of a record leaves behind
// (pdump and dumpcap stopped with SIGKILL, a full disk). A file whose header
// itself is damaged is left alone and reported as an error.
func Repair(path string) (RepairResult, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return RepairResult{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return RepairResult{}, err
	}
	res, err := Scan(f)
	res.Size = fi.Size()
	if err != nil {
		return res, fmt.Errorf("repairing %s: %w", path, err)
	}
	if res.Kept < res.Size {
		if err := f.Truncate(res.Kept); err != nil {
			return res, fmt.Errorf("repairing %s: %w", path, err)
		}
	}
	return res, f.Close()
}
