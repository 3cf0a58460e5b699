package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// markerName is the file that says a directory is trasloco-dev's: reset
// removes nothing else.
const markerName = ".trasloco-dev"

// prepareDir creates dir (and its marker). A directory that exists without
// the marker must be empty, so trasloco-dev never adopts (nor later
// removes) someone else's files.
func prepareDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	marker := filepath.Join(dir, markerName)
	if _, err := os.Stat(marker); err == nil {
		return nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("read %s: %w", dir, err)
	}
	if len(entries) > 0 {
		return fmt.Errorf("%s holds files that trasloco-dev did not create (no %s in it); move them away or choose another -dir", dir, markerName)
	}
	text := "State of trasloco-dev (make dev). `make dev-reset` removes this directory.\n"
	if err := os.WriteFile(marker, []byte(text), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", marker, err)
	}
	// The system users the servers run as (as root) read below it.
	return os.Chmod(dir, 0o755)
}

// lockDir takes the directory's lock, so that two trasloco-dev processes
// never share one state directory, and records our pid for reset. The lock
// goes with the process, however it ends.
func lockDir(dir string) (release func(), err error) {
	f, err := os.OpenFile(filepath.Join(dir, "dev.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("another trasloco-dev%s is running on %s: stop it (Ctrl-C) or run make dev-reset", pidText(dir), dir)
		}
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	pidPath := filepath.Join(dir, "dev.pid")
	if err := os.WriteFile(pidPath, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		f.Close()
		return nil, fmt.Errorf("write pid: %w", err)
	}
	return func() {
		os.Remove(pidPath)
		f.Close()
	}, nil
}

func readPid(dir string) int {
	b, err := os.ReadFile(filepath.Join(dir, "dev.pid"))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

func pidText(dir string) string {
	if pid := readPid(dir); pid > 0 {
		return fmt.Sprintf(" (pid %d)", pid)
	}
	return ""
}

// resetStopTimeout is how long reset waits for a running trasloco-dev to
// shut down gracefully (the panel's own shutdown takes up to ~50 s).
const resetStopTimeout = 75 * time.Second

// reset stops the trasloco-dev running on dir, if any, and removes dir.
func reset(dir string, out io.Writer) error {
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(out, "trasloco-dev: %s does not exist, nothing to reset\n", dir)
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, markerName)); err != nil {
		return fmt.Errorf("refusing to remove %s: it has no %s, so trasloco-dev did not create it", dir, markerName)
	}
	release, err := lockDir(dir)
	if err != nil {
		pid := readPid(dir)
		if pid <= 0 {
			return err
		}
		fmt.Fprintf(out, "trasloco-dev: stopping the trasloco-dev running on %s (pid %d)…\n", dir, pid)
		if err := syscall.Kill(pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("stop pid %d: %w", pid, err)
		}
		deadline := time.Now().Add(resetStopTimeout)
		for {
			if release, err = lockDir(dir); err == nil {
				break
			}
			if time.Now().After(deadline) {
				fmt.Fprintf(out, "trasloco-dev: pid %d did not stop within %s; killing it\n", pid, resetStopTimeout)
				_ = syscall.Kill(pid, syscall.SIGKILL)
				// Its servers follow it (parent-death signal); give them a moment.
				time.Sleep(3 * time.Second)
				if release, err = lockDir(dir); err != nil {
					return err
				}
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	release()
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove %s: %w", dir, err)
	}
	fmt.Fprintf(out, "trasloco-dev: removed %s; the next make dev starts from scratch\n", dir)
	return nil
}

// systemUsers are the users PostgreSQL and Dovecot run as when we are root;
// they must reach the files under the state directory.
var systemUsers = []string{"postgres", "dovecot"}

// ensureReachable makes dir reachable by the servers' system users when
// running as root. A checkout under /root (mode 0700) is the usual case:
// rather than opening /root to everyone (o+x), each directory on the way
// that they cannot traverse gets an ACL entry giving just those users
// search (x) permission; `getfacl /root` shows it, `setfacl -b /root`
// removes it.
func ensureReachable(dir string, out io.Writer) error {
	if os.Geteuid() != 0 {
		return nil // every server runs as us
	}
	var ids []uint32
	for _, name := range systemUsers {
		u, err := user.Lookup(name)
		if err != nil {
			continue // not installed yet: the server's own start says so
		}
		id, _ := strconv.Atoi(u.Uid)
		ids = append(ids, uint32(id))
	}
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return fmt.Errorf("resolve %s: %w", dir, err)
	}
	for p := filepath.Dir(real); ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("stat %s: %w", p, err)
		}
		if fi.Mode().Perm()&0o001 == 0 {
			changed, err := addSearchACL(p, fi.Mode().Perm(), ids)
			switch {
			case err != nil && inTempDir(p):
				// A test's temporary directory, maybe on a file system
				// without ACLs: do what internal/testenv does there.
				if err := os.Chmod(p, fi.Mode().Perm()|0o001); err != nil {
					return fmt.Errorf("chmod o+x %s: %w", p, err)
				}
			case err != nil:
				return fmt.Errorf("%s is not traversable by the postgres and dovecot system users, which need to reach %s (%v); "+
					"run `setfacl -m u:postgres:x,u:dovecot:x %s` (or chmod o+x), or clone the repository elsewhere", p, dir, err, p)
			case changed:
				fmt.Fprintf(out, "trasloco-dev: gave the postgres and dovecot users search (x) permission on %s with an ACL, so they reach %s\n", p, dir)
			}
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

// POSIX ACL extended attribute layout (linux/posix_acl_xattr.h).
const (
	aclXattr     = "system.posix_acl_access"
	aclVersion   = 2
	aclUserObj   = 0x01
	aclUser      = 0x02
	aclGroupObj  = 0x04
	aclGroup     = 0x08
	aclMask      = 0x10
	aclOther     = 0x20
	aclUndefined = 0xffffffff
	aclExecute   = 1
)

type aclEntry struct {
	tag, perm uint16
	id        uint32
}

// addSearchACL adds (or completes) named-user entries with search
// permission for uids to the access ACL of dir, keeping what is there.
// It reports whether it changed anything.
func addSearchACL(dir string, mode os.FileMode, uids []uint32) (bool, error) {
	if len(uids) == 0 {
		return false, errors.New("no system users to grant access to")
	}
	entries, err := readACL(dir, mode)
	if err != nil {
		return false, err
	}
	changed := false
	for _, uid := range uids {
		i := slices.IndexFunc(entries, func(e aclEntry) bool { return e.tag == aclUser && e.id == uid })
		switch {
		case i < 0:
			entries = append(entries, aclEntry{tag: aclUser, perm: aclExecute, id: uid})
			changed = true
		case entries[i].perm&aclExecute == 0:
			entries[i].perm |= aclExecute
			changed = true
		}
	}
	if m := slices.IndexFunc(entries, func(e aclEntry) bool { return e.tag == aclMask }); m >= 0 && entries[m].perm&aclExecute == 0 {
		changed = true
	}
	if !changed {
		return false, nil
	}
	// The mask bounds every group-class entry: it must now let x through
	// for the named users, and keep what the others had.
	var mask uint16
	for _, e := range entries {
		if e.tag == aclUser || e.tag == aclGroupObj || e.tag == aclGroup {
			mask |= e.perm
		}
	}
	entries = slices.DeleteFunc(entries, func(e aclEntry) bool { return e.tag == aclMask })
	entries = append(entries, aclEntry{tag: aclMask, perm: mask, id: aclUndefined})
	slices.SortFunc(entries, func(a, b aclEntry) int {
		if a.tag != b.tag {
			return int(a.tag) - int(b.tag)
		}
		return int(int64(a.id) - int64(b.id))
	})
	buf := binary.LittleEndian.AppendUint32(nil, aclVersion)
	for _, e := range entries {
		buf = binary.LittleEndian.AppendUint16(buf, e.tag)
		buf = binary.LittleEndian.AppendUint16(buf, e.perm)
		buf = binary.LittleEndian.AppendUint32(buf, e.id)
	}
	if err := syscall.Setxattr(dir, aclXattr, buf, 0); err != nil {
		return false, fmt.Errorf("set ACL: %w", err)
	}
	return true, nil
}

// inTempDir reports whether p lies inside the system temporary directory.
func inTempDir(p string) bool {
	tmp, err := filepath.EvalSymlinks(os.TempDir())
	if err != nil {
		tmp = os.TempDir()
	}
	return strings.HasPrefix(p, tmp+string(filepath.Separator))
}

// readACL returns the access ACL of path, or the minimal one its mode
// stands for when it has none.
func readACL(path string, mode os.FileMode) ([]aclEntry, error) {
	buf := make([]byte, 4096)
	n, err := syscall.Getxattr(path, aclXattr, buf)
	if errors.Is(err, syscall.ENODATA) {
		return []aclEntry{
			{tag: aclUserObj, perm: uint16(mode>>6) & 7, id: aclUndefined},
			{tag: aclGroupObj, perm: uint16(mode>>3) & 7, id: aclUndefined},
			{tag: aclOther, perm: uint16(mode) & 7, id: aclUndefined},
		}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read ACL: %w", err)
	}
	buf = buf[:n]
	if len(buf) < 4 || binary.LittleEndian.Uint32(buf) != aclVersion || (len(buf)-4)%8 != 0 {
		return nil, errors.New("read ACL: unknown format")
	}
	var entries []aclEntry
	for b := buf[4:]; len(b) > 0; b = b[8:] {
		entries = append(entries, aclEntry{
			tag:  binary.LittleEndian.Uint16(b),
			perm: binary.LittleEndian.Uint16(b[2:]),
			id:   binary.LittleEndian.Uint32(b[4:]),
		})
	}
	return entries, nil
}
