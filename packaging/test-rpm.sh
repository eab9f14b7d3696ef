#!/usr/bin/env bash
# Tests a built gzdoctor RPM: its file list, its dependencies, and that the
# binary inside runs. Usage: packaging/test-rpm.sh gzdoctor-V-R.ARCH.rpm
set -euo pipefail
rpm=${1:?usage: test-rpm.sh RPM}
cd "$(dirname "$0")/.."
fail=0
bad() { echo "test-rpm: $*" >&2; fail=1; }

files=$(rpm -qlp "$rpm")
# brp-compress gzips man pages where the build host's rpm has it (openEuler);
# Debian's rpm leaves them as they are.
man=$(grep -o '^/usr/share/man/man1/gzdoctor\.1\(\.gz\)\?$' <<<"$files" || true)
gz=${man#/usr/share/man/man1/gzdoctor.1}
for f in /usr/bin/gzdoctor \
	/usr/share/man/man1/gzdoctor.1$gz /usr/share/man/man1/gzdoctor-check.1$gz \
	/usr/share/bash-completion/completions/gzdoctor /usr/share/zsh/site-functions/_gzdoctor \
	/usr/share/fish/vendor_completions.d/gzdoctor.fish \
	/usr/lib/systemd/system/gzdoctor-textfile.service /usr/lib/systemd/system/gzdoctor-textfile.timer; do
	grep -qxF "$f" <<<"$files" || bad "$f is not in the package"
done
grep -q '/LICENSE$' <<<"$files" || bad "no LICENSE in the package"
# One man page per command that is not hidden.
[ "$(grep -c "^/usr/share/man/man1/gzdoctor.*\\.1$gz\$" <<<"$files")" -ge 10 ] || bad "fewer than 10 man pages"

# Built with CGO_ENABLED=0, the binary needs no glibc symbol version; purego
# (libpcap is dlopen'ed for filters) makes it link libc, libdl and libpthread
# dynamically, unversioned. Nothing else may be required but rpmlib
# features, /bin/sh for the scriptlets, and systemd.
while read -r req; do
	case $req in
	rpmlib\(*) ;;
	/bin/sh | systemd | systemd-units) ;;
	'libc.so.6()(64bit)' | 'libdl.so.2()(64bit)' | 'libpthread.so.0()(64bit)') ;;
	*) bad "unexpected requirement: $req" ;;
	esac
done < <(rpm -qp --requires "$rpm" | sed 's/ .*//')

# The spec's golang BuildRequires is the go directive of go.mod.
godir=$(awk '$1 == "go" {print $2; exit}' go.mod)
spec_go=$(rpmspec -q --srpm --requires packaging/gzdoctor.spec 2>/dev/null | awk '$1 == "golang" {print $3}')
[ "$(cut -d. -f1,2 <<<"$godir")" = "$(cut -d. -f1,2 <<<"$spec_go")" ] || bad "gzdoctor.spec requires golang >= $spec_go, go.mod says go $godir"

# The binary inside runs, and reports the package's version.
x=$(mktemp -d)
trap 'rm -rf "$x"' EXIT
rpm2archive - <"$rpm" | tar -xzf - -C "$x"
want=$(rpm -qp --qf '%{version}-%{release}' "$rpm")
out=$("$x/usr/bin/gzdoctor" version) || bad "gzdoctor version exited $?"
grep -q "^gzdoctor $want" <<<"$out" || bad "gzdoctor version says '$(head -1 <<<"$out")', want gzdoctor $want"
zcat -f "$x/usr/share/man/man1/gzdoctor-check.1$gz" | grep -q -- '--prefix' || bad "gzdoctor-check.1 does not document --prefix"
grep -q 'complete -o default -F __start_gzdoctor gzdoctor' "$x/usr/share/bash-completion/completions/gzdoctor" ||
	grep -q '__start_gzdoctor' "$x/usr/share/bash-completion/completions/gzdoctor" || bad "the bash completion is not cobra's"
# The unit runs flags this very binary has.
exec_start=$(sed -n 's/^ExecStart=//p' "$x/usr/lib/systemd/system/gzdoctor-textfile.service")
read -ra argv <<<"$exec_start"
"$x${argv[0]}" "${argv[@]:1}" --help >/dev/null 2>"$x/err" || bad "ExecStart's flags are not all gzdoctor's: $(cat "$x/err")"
if [ "$fail" = 0 ]; then
	echo "test-rpm: $(basename "$rpm"): $(wc -l <<<"$files") files, requires $(rpm -qp --requires "$rpm" | grep -vc '^rpmlib'), gzdoctor $want runs"
fi
exit $fail
