package format

import (
	"bytes"
	"fmt"
	"io"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

func fmt16(n uint64) string { return fmt.Sprintf("%016x", n) }
