package doctor

import (
	"fmt"
	"strconv"

	"github.com/gzdoctor/gzdoctor/host"
)

// Access bits as in access(2).
const (
	accR = 4
	accW = 2
	accX = 1
)

// mayAccess tells whether uid may access a file with st's owner and mode
// for want (accR|accW|accX). Group membership is not known for another
// user, so the group bits count only when gid matches; root may do
// anything but execute a file nobody may execute.
func mayAccess(uid, gid int, st *host.FileStat, want int) bool {
	if st == nil {
		return false
	}
	mode, err := strconv.ParseUint(st.Mode, 8, 32)
	if err != nil {
		return false
	}
	if uid == 0 {
		return true
	}
	var bits uint64
	switch {
	case st.UID == uid:
		bits = mode >> 6 & 7
	case st.GID == gid && gid >= 0:
		bits = mode >> 3 & 7
	default:
		bits = mode & 7
	}
	return int(bits)&want == want
}

func accessWords(want int) string {
	s := ""
	if want&accR != 0 {
		s += "read"
	}
	if want&accW != 0 {
		if s != "" {
			s += "/"
		}
		s += "write"
	}
	if want&accX != 0 {
		if s != "" {
			s += "/"
		}
		s += "enter"
	}
	return s
}

func statWords(st *host.FileStat) string {
	return fmt.Sprintf("owner uid %d gid %d, mode %s", st.UID, st.GID, st.Mode)
}
