"""Bounded waits shared by the simulators and the integration suite: every
wait has a deadline, nothing sleeps for a fixed time."""

import socket
import time

HOST = "127.0.0.1"
TIMEOUT = 10.0              # default deadline of every wait
POLL = 0.02                 # poll interval inside wait loops


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout=TIMEOUT, what="a condition", interval=POLL):
    """Polls predicate() until it is truthy (returns its value) or the deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def port_accepts(port, host=HOST):
    """Whether a TCP connection to host:port is accepted now."""
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False
