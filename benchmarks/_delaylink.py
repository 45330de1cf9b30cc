"""A link with added delay between two network namespaces that the benchmark makes and removes.

``tc netem`` is the usual tool, but kernels built without ``sch_netem`` (as on the machines this
project runs on) refuse it, so the link is made of two TUN devices, one in each namespace, and a
small relay process that copies every IP packet from one to the other after ``delay_ms``. Every
packet is delayed, TCP handshakes and TLS handshakes included, so a 10 ms delay each way is a
20 ms round trip (the relay adds a fraction of a millisecond). :func:`netem_available` reports
whether the kernel would have accepted netem instead.

Needs root and the ``ip`` command; :func:`unavailable_reason` says why not otherwise. Run
``python _delaylink.py relay A B DELAY_MS`` only through :class:`DelayLink`.

Example (as root):
    >>> with DelayLink(delay_ms=10) as link:  # doctest: +SKIP
    ...     subprocess.run([*link.in_server_ns, "python", "-m", "http.server"])
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path
from types import TracebackType

_TUNSETIFF = 0x400454CA
_IFF_TUN = 0x0001
_IFF_NO_PI = 0x1000


def unavailable_reason() -> str | None:
    """Why the link cannot be made here, or None when it can."""
    if os.geteuid() != 0:
        return "not running as root (network namespaces need root)"
    if shutil.which("ip") is None:
        return "the ip command is missing (apt-get install -y iproute2)"
    if not Path("/dev/net/tun").exists():
        return "/dev/net/tun is missing"
    return None


def netem_available() -> bool:
    """Whether the kernel accepts a ``tc netem`` qdisc (tried in a throwaway namespace)."""
    if shutil.which("tc") is None or unavailable_reason() is not None:
        return False
    ns = f"mi-bench-probe-{os.getpid()}"
    try:
        subprocess.run(["ip", "netns", "add", ns], check=True, capture_output=True)
        probe = subprocess.run(
            ["ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", "lo", "root", "netem"],
            capture_output=True,
        )
        return probe.returncode == 0
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


class DelayLink:
    """Two namespaces joined by a delayed point-to-point link; removed on exit."""

    server_ip = "10.213.0.1"
    client_ip = "10.213.0.2"

    def __init__(self, delay_ms: float = 10.0) -> None:
        self.delay_ms = delay_ms
        tag = os.getpid() % 100000
        self.server_ns = f"mi-bench-srv-{tag}"
        self.client_ns = f"mi-bench-cli-{tag}"
        self._tun_server, self._tun_client = f"mibs{tag}", f"mibc{tag}"
        self._relay: subprocess.Popen[str] | None = None

    @property
    def in_server_ns(self) -> list[str]:
        """Command prefix that runs a program in the server's namespace."""
        return ["ip", "netns", "exec", self.server_ns]

    @property
    def in_client_ns(self) -> list[str]:
        """Command prefix that runs a program in the clients' namespace."""
        return ["ip", "netns", "exec", self.client_ns]

    def __enter__(self) -> DelayLink:
        reason = unavailable_reason()
        if reason is not None:
            raise RuntimeError(f"cannot make the delayed link: {reason}")
        try:
            self._setup()
        except BaseException:
            self._teardown()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._teardown()

    def _setup(self) -> None:
        _ip("netns", "add", self.server_ns)
        _ip("netns", "add", self.client_ns)
        self._relay = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "relay",
                self._tun_server,
                self._tun_client,
                str(self.delay_ms),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._relay.stdout is not None
        if self._relay.stdout.readline().strip() != "ready":
            raise RuntimeError("the delay relay did not start")
        for ns, dev, ip in (
            (self.server_ns, self._tun_server, self.server_ip),
            (self.client_ns, self._tun_client, self.client_ip),
        ):
            _ip("link", "set", dev, "netns", ns)
            _ip("-n", ns, "addr", "add", f"{ip}/24", "dev", dev)
            _ip("-n", ns, "link", "set", dev, "up")
            _ip("-n", ns, "link", "set", "lo", "up")

    def _teardown(self) -> None:
        if self._relay is not None:
            if self._relay.stdin is not None:
                self._relay.stdin.close()
            try:
                self._relay.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._relay.kill()
                self._relay.wait(timeout=5)
            self._relay = None
        for ns in (self.server_ns, self.client_ns):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=10)


def _open_tun(name: str) -> int:
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, _TUNSETIFF, struct.pack("16sH", name.encode(), _IFF_TUN | _IFF_NO_PI))
    return fd


def _relay(name_a: str, name_b: str, delay_ms: float) -> None:
    """Copy packets between two TUN devices after ``delay_ms``, until stdin closes."""
    fd_a, fd_b = _open_tun(name_a), _open_tun(name_b)
    delay = delay_ms / 1000
    loop = asyncio.new_event_loop()

    def deliver(fd: int, packet: bytes) -> None:
        # The device is going away, or the packet is too big: the network drops it.
        with contextlib.suppress(OSError):
            os.write(fd, packet)

    def forwarder(src: int, dst: int) -> None:
        while True:
            try:
                packet = os.read(src, 65536)
            except (BlockingIOError, OSError):
                return
            loop.call_at(loop.time() + delay, deliver, dst, packet)

    loop.add_reader(fd_a, forwarder, fd_a, fd_b)
    loop.add_reader(fd_b, forwarder, fd_b, fd_a)
    loop.add_reader(sys.stdin.fileno(), loop.stop)
    print("ready", flush=True)
    loop.run_forever()
    os.close(fd_a)
    os.close(fd_b)


if __name__ == "__main__" and sys.argv[1:2] == ["relay"]:
    _relay(sys.argv[2], sys.argv[3], float(sys.argv[4]))
