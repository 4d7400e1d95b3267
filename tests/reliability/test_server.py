"""A closed server: the dashboard binds 127.0.0.1 only, with XSRF protection on, by its config file and for real."""
from __future__ import annotations

import os
import socket
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from reliability.recording import Record
from support import ROOT, wait_for
from support.procs import Groups

from cnnkit.bench.server import free_port, launch_command

CONFIG = ROOT / ".streamlit" / "config.toml"
LISTEN = "0A"  # TCP state LISTEN in /proc/net/tcp


def test_config_binds_loopback_with_xsrf_on(record: Record) -> None:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    config = tomllib.loads(CONFIG.read_text())
    server = config["server"]
    assert server["address"] == "127.0.0.1"
    assert server["enableXsrfProtection"] is True
    assert server.get("enableCORS", True) is True  # CORS protection stays on too
    assert server.get("headless") is True  # no browser opened on a server
    assert config["browser"]["gatherUsageStats"] is False
    assert server["fileWatcherType"] == "none"  # watching .venv/ cost the server a whole core
    assert config["runner"]["postScriptGC"] is False  # a full GC after every live refresh: most of its cost
    record("server", ".streamlit/config.toml: address 127.0.0.1, XSRF on, CORS on", "closed")


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def _listening(pid: int) -> list[tuple[str, int]]:
    """(address, port) of every socket ``pid`` listens on, from /proc/net/tcp and tcp6."""
    mine = _socket_inodes(pid)
    found = []
    for table, family in (("/proc/net/tcp", 4), ("/proc/net/tcp6", 6)):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state != LISTEN or inode not in mine:
                continue
            address, port = local.split(":")
            found.append((_address(address, family), int(port, 16)))
    return found


def _address(hex_address: str, family: int) -> str:
    raw = bytes.fromhex(hex_address)
    if family == 4:
        return socket.inet_ntop(socket.AF_INET, raw[::-1])  # little-endian in /proc
    words = b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))
    return socket.inet_ntop(socket.AF_INET6, words)


def _other_addresses() -> list[str]:
    """This machine's non-loopback IPv4 addresses (from the routes it has)."""
    found = []
    for line in Path("/proc/net/route").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == "00000000" and fields[0] != "lo":  # the default route's interface
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                try:
                    s.connect(("10.255.255.255", 1))  # no packet is sent: this only picks the source address
                    found.append(s.getsockname()[0])
                except OSError:
                    pass
    return [a for a in found if not a.startswith("127.")]


@pytest.mark.slow
def test_streamlit_run_listens_only_on_loopback(tmp_path: Path, groups: Groups, record: Record) -> None:
    port = free_port()
    env = dict(os.environ, CNNKIT_HOME=str(tmp_path / "store"), CNNKIT_NO_SUPERVISOR="1")
    log = open(tmp_path / "streamlit.log", "wb")
    proc = groups.start(launch_command(port),
                        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        sockets = wait_for(lambda: proc.poll() is None and _listening(proc.pid), 120,
                           "streamlit to listen", every=0.5)
    except AssertionError:
        raise AssertionError((tmp_path / "streamlit.log").read_text()[-2000:]) from None
    finally:
        log.close()
    assert sockets == [("127.0.0.1", port)], sockets
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=30) as reply:
        assert reply.status == 200 and reply.read() == b"ok"
        cookies = reply.headers.get_all("Set-Cookie") or []
    assert any(c.startswith("_streamlit_xsrf=") for c in cookies), cookies  # XSRF protection is live
    upload = urllib.request.Request(f"http://127.0.0.1:{port}/_stcore/upload_file/session/file", data=b"x",
                                    method="PUT")
    with pytest.raises(urllib.error.HTTPError) as refused:  # a write without the XSRF token
        urllib.request.urlopen(upload, timeout=30)
    assert refused.value.code == 403
    for address in _other_addresses():  # and from the machine's own LAN address nobody answers
        with socket.socket() as s, pytest.raises(OSError):
            s.settimeout(5)
            s.connect((address, port))
    record("server", "`streamlit run dashboard.py`: listens on 127.0.0.1 only; XSRF cookie set, "
                     "a write without its token gets 403", "closed")
