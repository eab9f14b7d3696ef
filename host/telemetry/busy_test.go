package telemetry

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// A telemetry socket whose listen queue is full (DPDK listens with a
// backlog of one) answers connect with EAGAIN. The client waits for room
// instead of calling the primary deaf: the queue is filled here on
// purpose, and room is made only after the dial has met EAGAIN.
func TestDialTelemetryWaitsForAFullQueue(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dpdk_telemetry.v2")
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_SEQPACKET|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: path}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	ln, err := net.FileListener(os.NewFile(uintptr(fd), path))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	// Fill the queue until a connect is refused with EAGAIN.
	var queued []net.Conn
	defer func() {
		for _, c := range queued {
			c.Close()
		}
	}()
	for {
		c, err := net.Dial("unixpacket", path)
		if errors.Is(err, syscall.EAGAIN) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if queued = append(queued, c); len(queued) > 64 {
			t.Fatal("the listen queue never filled")
		}
	}
	// The server: after a pause in which the dial below can only meet
	// EAGAIN, it accepts everything and greets each connection.
	go func() {
		time.Sleep(300 * time.Millisecond)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte(`{"version":"DPDK 22.11.11","pid":1,"max_output_len":16384}`))
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tel, err := Dial(ctx, path)
	if err != nil {
		t.Fatalf("Dial on a full queue: %v", err)
	}
	defer tel.Close()
	if tel.Info.Version != "DPDK 22.11.11" {
		t.Errorf("greeting %+v", tel.Info)
	}
}
