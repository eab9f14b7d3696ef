package lab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// The addresses of a lab network namespace. They exist only inside the
// namespace: the root namespace's end of the veth has no address, and the
// primary answers for PrimaryAddr itself (ARP with the lab's server MAC,
// 02:00:00:00:00:01, which no kernel interface owns, so the root kernel
// never routes what the namespace sends).
const (
	NetnsPeerAddr    = "10.199.0.2"
	NetnsPrimaryAddr = "10.199.0.1"
	netnsPrefixLen   = 24
)

// Netns is a network namespace a lab primary's af_packet port faces: a veth
// pair whose HostIf end (no address, in the root namespace) the primary
// drives and whose PeerIf end lives in the namespace with PeerAddr.
type Netns struct {
	Name        string // ip netns name, also /var/run/netns/<Name>
	HostIf      string // the primary's end, in the root namespace
	PeerIf      string // the namespace's end
	PeerAddr    string // the namespace's address
	PrimaryAddr string // the address the primary answers for
}

// newNetns creates the namespace and the veth pair. Names derive from the
// primary's prefix so a sweep can tell ours from others'.
func newNetns(prefix string) (*Netns, error) {
	n := &Netns{Name: prefix, PeerIf: "gzpeer0", PeerAddr: NetnsPeerAddr, PrimaryAddr: NetnsPrimaryAddr}
	// Interface names have at most 15 bytes: gzv<pid>_<n>.
	n.HostIf = "gzv" + strings.TrimPrefix(prefix, "gzlab_")
	if len(n.HostIf) > 15 {
		return nil, fmt.Errorf("interface name %s for prefix %s is longer than 15 bytes", n.HostIf, prefix)
	}
	steps := [][]string{
		{"ip", "netns", "add", n.Name},
		{"ip", "link", "add", n.HostIf, "type", "veth", "peer", "name", n.PeerIf, "netns", n.Name},
		{"ip", "-n", n.Name, "addr", "add", fmt.Sprintf("%s/%d", n.PeerAddr, netnsPrefixLen), "dev", n.PeerIf},
		{"ip", "-n", n.Name, "link", "set", "lo", "up"},
		{"ip", "-n", n.Name, "link", "set", n.PeerIf, "up"},
		{"ip", "link", "set", n.HostIf, "up"},
	}
	for i, s := range steps {
		if i == 5 {
			// The root end stays silent: no IPv6 link-local address, no
			// router solicitations into the primary's port.
			_ = os.WriteFile(filepath.Join("/proc/sys/net/ipv6/conf", n.HostIf, "disable_ipv6"), []byte("1\n"), 0o644)
		}
		if out, err := exec.Command(s[0], s[1:]...).CombinedOutput(); err != nil {
			n.remove()
			return nil, fmt.Errorf("creating the lab's network namespace: %s: %v: %s", strings.Join(s, " "), err, strings.TrimSpace(string(out)))
		}
	}
	return n, nil
}

// remove deletes the namespace; the veth pair goes with its namespace end.
func (n *Netns) remove() {
	_ = exec.Command("ip", "netns", "del", n.Name).Run()
	_ = exec.Command("ip", "link", "del", n.HostIf).Run()
}

// Do runs fn with the calling goroutine's OS thread in the namespace, so
// sockets fn opens belong to it. The thread goes back to the root namespace
// afterwards; if it cannot, it is never reused.
func (n *Netns) Do(fn func() error) error {
	ns, err := os.Open(filepath.Join("/var/run/netns", n.Name))
	if err != nil {
		return fmt.Errorf("opening network namespace %s: %w", n.Name, err)
	}
	defer ns.Close()
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// The goroutine starts on some thread; take that thread's
		// namespace as the one to return to.
		orig, err := os.Open(fmt.Sprintf("/proc/%d/task/%d/ns/net", os.Getpid(), unix.Gettid()))
		if err != nil {
			runtime.UnlockOSThread()
			done <- err
			return
		}
		defer orig.Close()
		if err := unix.Setns(int(ns.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			done <- fmt.Errorf("entering network namespace %s: %w", n.Name, err)
			return
		}
		ferr := fn()
		if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
			// Still locked: the runtime ends the thread with the goroutine.
			done <- errors.Join(ferr, fmt.Errorf("leaving network namespace %s: %w", n.Name, err))
			return
		}
		runtime.UnlockOSThread()
		done <- ferr
	}()
	return <-done
}

// UDPEcho sends payload from the namespace to the primary's address and
// returns what comes back (a reflecting primary sends it back unchanged).
func (n *Netns) UDPEcho(ctx context.Context, port int, payload []byte) ([]byte, error) {
	var got []byte
	err := n.Do(func() error {
		var d net.Dialer
		c, err := d.DialContext(ctx, "udp4", net.JoinHostPort(n.PrimaryAddr, fmt.Sprint(port)))
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(deadline(ctx))
		if _, err := c.Write(payload); err != nil {
			return err
		}
		buf := make([]byte, 65536)
		k, err := c.Read(buf)
		if err != nil {
			return fmt.Errorf("UDP from %s to %s:%d: no answer: %w", n.PeerAddr, n.PrimaryAddr, port, err)
		}
		got = buf[:k]
		return nil
	})
	return got, err
}

// TCPEcho connects from the namespace to the primary's address, sends
// payload and reads as many bytes back. With a reflecting primary the
// handshake is a simultaneous open (the SYN comes back as a SYN) and the
// data comes back as sent.
func (n *Netns) TCPEcho(ctx context.Context, port int, payload []byte) ([]byte, error) {
	var got []byte
	err := n.Do(func() error {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp4", net.JoinHostPort(n.PrimaryAddr, fmt.Sprint(port)))
		if err != nil {
			return fmt.Errorf("TCP from %s to %s:%d: %w", n.PeerAddr, n.PrimaryAddr, port, err)
		}
		defer c.Close()
		c.SetDeadline(deadline(ctx))
		if _, err := c.Write(payload); err != nil {
			return err
		}
		buf := make([]byte, len(payload))
		k := 0
		for k < len(buf) {
			m, err := c.Read(buf[k:])
			if err != nil {
				return fmt.Errorf("TCP from %s to %s:%d: read %d of %d bytes: %w", n.PeerAddr, n.PrimaryAddr, port, k, len(buf), err)
			}
			k += m
		}
		got = buf
		return nil
	})
	return got, err
}

func deadline(ctx context.Context) time.Time {
	if d, ok := ctx.Deadline(); ok {
		return d
	}
	return time.Now().Add(5 * time.Second)
}
