package specpatch

import (
	"testing"

	"github.com/gzdoctor/gzdoctor/internal/inittest"
)

func TestNoRegexpCompiledAtInit(t *testing.T) { inittest.NoRegexpAtInit(t) }
