package pcapfile

import "io"

// wbuf is the writers' output buffer. Unlike bufio.Writer it lets a
// writer build a whole record (header, data, trailer) in place with one
// call per record: three Writes per packet and a heap-allocated trailer
// were a tenth of pcap merge's time.
type wbuf struct {
	w   io.Writer
	b   []byte // len: bytes buffered
	err error  // sticky, as bufio.Writer's
}

func newWbuf(w io.Writer) *wbuf { return &wbuf{w: w, b: make([]byte, 0, writeBufSize)} }

// reserve returns the next n bytes of the buffer for the caller to fill,
// flushing first when they do not fit; nil when n exceeds the buffer (write
// such a record with Write) or after an error.
func (b *wbuf) reserve(n int) []byte {
	if cap(b.b)-len(b.b) < n {
		if b.Flush() != nil || n > cap(b.b) {
			return nil
		}
	}
	l := len(b.b)
	b.b = b.b[:l+n]
	return b.b[l : l+n : l+n]
}

// Write buffers p, or writes it through when it is larger than the buffer.
func (b *wbuf) Write(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if cap(b.b)-len(b.b) >= len(p) {
		b.b = append(b.b, p...)
		return len(p), nil
	}
	if err := b.Flush(); err != nil {
		return 0, err
	}
	if len(p) <= cap(b.b) {
		b.b = append(b.b, p...)
		return len(p), nil
	}
	n, err := b.w.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	b.err = err
	return n, err
}

// Flush writes what is buffered.
func (b *wbuf) Flush() error {
	if b.err != nil {
		return b.err
	}
	if len(b.b) == 0 {
		return nil
	}
	n, err := b.w.Write(b.b)
	if err == nil && n < len(b.b) {
		err = io.ErrShortWrite
	}
	if err != nil {
		b.err = err
		return err
	}
	b.b = b.b[:0]
	return nil
}
