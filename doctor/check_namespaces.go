package doctor

import (
	"context"
	"fmt"
	"os"
	"path"
	"strconv"

	"github.com/gzdoctor/gzdoctor/host"
)

// checkNamespaces (CHK-15): the capture tool must see the primary's runtime
// dir and hugepage files as the same filesystem objects. A primary in
// another mount namespace (a container, `unshare -m`) is fine as long as
// its runtime dir is shared; otherwise the tool must run inside it.
func checkNamespaces(ctx context.Context, env *Env) Result {
	t, err := env.Target(ctx)
	if err != nil {
		return errored(err.Error())
	}
	if t.Dir != nil && t.Dir.State == host.PrefixLive && t.Dir.Lock.Holder != nil && t.Dir.Lock.Holder.PID == 0 {
		return warn(fmt.Sprintf("prefix %s is locked by a process in another pid namespace (a container?)", t.Prefix),
			fix("run the capture inside the primary's container (docker exec / nsenter), where its files and hugepages are the same"))
	}
	p, err := env.Primary(ctx)
	if err != nil {
		return errored(err.Error())
	}
	if p == nil {
		return skip("no running primary to compare with")
	}
	self, err := os.Readlink(env.h.Path("/proc/self/ns/mnt"))
	if err != nil {
		return skip("cannot read this process's mount namespace: " + err.Error())
	}
	if p.MountNS == "" {
		return skip(fmt.Sprintf("cannot read the mount namespace of pid %d", p.PID))
	}
	details := []string{fmt.Sprintf("gzdoctor: %s, primary pid %d: %s", self, p.PID, p.MountNS)}
	if p.MountNS == self {
		return ok("the primary runs in this mount namespace", details...)
	}
	// Another mount namespace: compare the runtime dir's config file as the
	// primary sees it (/proc/<pid>/root/...) with ours.
	cfg := path.Join(t.Dir.Dir, "config")
	ours, err1 := env.h.Stat(cfg)
	theirs, err2 := env.h.Stat(path.Join("/proc", strconv.Itoa(p.PID), "root", cfg))
	switch {
	case err1 == nil && err2 == nil && ours.Dev == theirs.Dev && ours.Ino == theirs.Ino:
		return ok(fmt.Sprintf("the primary runs in another mount namespace (%s) but shares %s", p.MountNS, t.Dir.Dir), details...)
	case err2 != nil:
		details = append(details, "primary's view: "+err2.Error())
	}
	f := fix("run the capture tool inside the primary's mount namespace (the tool must exist there too)")
	if c := env.captureCommand(t.Prefix, env.knownDevice(ctx)); c != "" {
		f.Commands = append(f.Commands, fmt.Sprintf("nsenter -t %d -m -- %s", p.PID, c))
	}
	return fail(fmt.Sprintf("the primary (pid %d) runs in another mount namespace and its %s is not the file this side sees", p.PID, cfg),
		f, details...)
}
