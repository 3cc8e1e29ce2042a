#!/usr/bin/env python3
"""ptytype.py [--wait TEXT] [--timeout S] INPUT -- CMD... — run CMD on a fresh pty (its
controlling terminal), wait until its output contains TEXT (default: "# ", busybox sh's
prompt), type INPUT, then copy everything CMD writes to stdout until it exits. Exits with
CMD's exit status (128+signal if killed), 124 on a timeout, and 125 if the pty's terminal
modes after CMD exited differ from those before (a client that put it in raw mode and did
not restore it)."""
import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import time


def main():
    args = sys.argv[1:]
    wait, timeout = "# ", 60.0
    while args and args[0].startswith("--") and args[0] != "--":
        if args[0] == "--wait":
            wait, args = args[1], args[2:]
        elif args[0] == "--timeout":
            timeout, args = float(args[1]), args[2:]
        else:
            sys.exit("ptytype.py: unknown option " + args[0])
    if len(args) < 3 or args[1] != "--":
        sys.exit(__doc__)
    text, cmd = args[0].encode().decode("unicode_escape").encode(), args[2:]

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    before = termios.tcgetattr(slave)
    pid = os.fork()
    if pid == 0:
        os.close(master)
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        for fd in (0, 1, 2):
            os.dup2(slave, fd)
        if slave > 2:
            os.close(slave)
        try:
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)

    deadline = time.monotonic() + timeout
    seen, sent, status = b"", False, None
    out = sys.stdout.buffer
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            out.write(b"\nptytype.py: timed out (sent input: %s)\n" % str(sent).encode())
            out.flush()
            sys.exit(124)
        if not sent and wait.encode() in seen:
            os.write(master, text)
            sent = True
        r, _, _ = select.select([master], [], [], min(left, 0.2))
        if r:
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: every slave fd is closed
                data = b""
            if data:
                seen += data
                out.write(data)
                out.flush()
                continue
        if status is None:
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                status = st
        if status is not None and not r:
            break
        if status is not None and r and not data:
            break
    after = termios.tcgetattr(slave)
    os.close(master)
    if not sent:
        out.write(b"\nptytype.py: never saw %r, input not sent\n" % wait.encode())
        sys.exit(126)
    if after != before:
        out.write(b"\nptytype.py: terminal modes not restored: %r -> %r\n" % (before, after))
        sys.exit(125)
    sys.exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))


if __name__ == "__main__":
    main()
