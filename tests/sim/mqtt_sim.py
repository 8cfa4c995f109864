"""Demand response test peers: a real Mosquitto broker (the Debian package)
started on 127.0.0.1, and a simulated utility (VTN) that publishes OpenADR 3.1
event notifications and collects what the gateway publishes (python3-paho-mqtt
1.6.1).

    broker = Mosquitto(workdir)            # a free port; broker.port says which
    broker.start()
    vtn = Vtn(broker.port)                 # connected, subscribed to <prefix>/#
    vtn.wait_online("DEPOT-01")            # the gateway's retained status
    vtn.publish(event("evt-1", start_in_s=5, duration_s=6, kw=20))
    vtn.wait_opt("evt-1")                  # {"eventID", "optType", ...}
    broker.stop(); broker.start()          # the same port again
    vtn.close(); broker.close()

TLS: Mosquitto(workdir, tls=make_ca(workdir), passwords={"user": "pw"}).
Every wait has a deadline; nothing sleeps for a fixed time.
"""

import datetime
import getpass
import json
import os
import subprocess
import threading
import time

import paho.mqtt.client as mqtt

from waits import HOST, POLL, TIMEOUT, free_port, port_accepts, wait_until


# --- times and events ---------------------------------------------------------------

def iso(t):
    """A datetime (UTC) as RFC 3339 with milliseconds."""
    return t.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def event(event_id, start_in_s=5.0, duration_s=6.0, kw=None, simple=None, program="ev-peak-dr",
          priority=None, modified=None, targets=None, intervals=None, randomize=None,
          start=None):
    """An OpenADR 3.1 event object: one interval of duration_s starting in
    start_in_s (or at start), asking for kw (IMPORT_CAPACITY_LIMIT) and/or a
    SIMPLE level; intervals replaces the interval list."""
    now = utcnow()
    period = {"start": start or iso(now + datetime.timedelta(seconds=start_in_s)),
              "duration": f"PT{duration_s}S"}
    if randomize is not None:
        period["randomizeStart"] = randomize
    payloads = []
    if kw is not None:
        payloads.append({"type": "IMPORT_CAPACITY_LIMIT", "values": [kw]})
    if simple is not None:
        payloads.append({"type": "SIMPLE", "values": [simple]})
    ev = {
        "id": event_id,
        "objectType": "EVENT",
        "programID": program,
        "eventName": f"test {event_id}",
        "createdDateTime": iso(now),
        "modificationDateTime": modified or iso(now),
        "priority": priority,
        "targets": targets,
        "payloadDescriptors": [{"objectType": "EVENT_PAYLOAD_DESCRIPTOR",
                                "payloadType": "IMPORT_CAPACITY_LIMIT", "units": "KW"}],
        "intervalPeriod": period,
        "intervals": intervals if intervals is not None else [{"id": 0, "payloads": payloads}],
    }
    return ev


def notification(ev, operation="CREATE"):
    return {"objectType": "EVENT", "operation": operation, "object": ev}


# --- the broker -----------------------------------------------------------------------

class Mosquitto:
    """A mosquitto process of its own on 127.0.0.1: a fixed free port across
    stop()/start(), optional TLS (a dict from make_ca) and password file;
    persistent keeps retained messages across a stop and start."""

    def __init__(self, workdir, tls=None, passwords=None, persistent=False, name="broker"):
        self.workdir = workdir
        self.port = free_port()
        self.tls = tls
        self.passwords = passwords
        self.persistent = persistent
        self.name = name
        self.proc = None
        self.conf = os.path.join(workdir, f"{name}.conf")
        self.log_path = os.path.join(workdir, f"{name}.log")
        self._write_conf()

    def _write_conf(self):
        persistence = (["persistence true", f"persistence_location {self.workdir}/",
                        f"persistence_file {self.name}.db"] if self.persistent
                       else ["persistence false"])
        # Started as root, mosquitto would drop to the user "mosquitto", which
        # cannot write its database here: stay who we are.
        lines = [f"listener {self.port} {HOST}", f"user {getpass.getuser()}", *persistence,
                 "log_dest stderr", "log_type error", "log_type warning", "log_type notice",
                 "log_type information", "connection_messages true"]
        if self.passwords:
            pwfile = os.path.join(self.workdir, f"{self.name}.passwd")
            open(pwfile, "w").close()
            for user, pw in self.passwords.items():
                subprocess.run(["mosquitto_passwd", "-b", pwfile, user, pw], check=True,
                               capture_output=True, timeout=TIMEOUT)
            lines += ["allow_anonymous false", f"password_file {pwfile}"]
        else:
            lines.append("allow_anonymous true")
        if self.tls:
            lines += [f"cafile {self.tls['ca']}", f"certfile {self.tls['server_cert']}",
                      f"keyfile {self.tls['server_key']}"]
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")

    def start(self):
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(["mosquitto", "-c", self.conf], stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=log, start_new_session=True)
        finally:
            log.close()
        deadline = time.monotonic() + TIMEOUT
        while not port_accepts(self.port):
            if self.proc.poll() is not None:
                code = self.proc.returncode
                self.stop()
                raise RuntimeError(f"mosquitto exited with {code}:\n{self.log_text()}")
            if time.monotonic() >= deadline:
                self.stop()                 # its own process group: no one else would
                raise TimeoutError(f"mosquitto did not listen on {self.port}")
            time.sleep(POLL)
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(TIMEOUT)
        self.proc = None

    def close(self):
        self.stop()

    def log_text(self):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""


def make_ca(workdir, host=HOST):
    """A test CA and a server certificate for host (an IP address), made with
    the openssl command line; returns the file names."""
    def run(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)
    files = {k: os.path.join(workdir, f"{k}.pem") for k in
             ("ca", "ca_key", "server_cert", "server_key", "server_csr")}
    ext = os.path.join(workdir, "server.ext")
    with open(ext, "w") as f:
        f.write(f"subjectAltName=IP:{host}\nbasicConstraints=CA:FALSE\n"
                "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n")
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
        "/CN=sitegate test CA", "-keyout", files["ca_key"], "-out", files["ca"])
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={host}",
        "-keyout", files["server_key"], "-out", files["server_csr"])
    run("x509", "-req", "-in", files["server_csr"], "-CA", files["ca"], "-CAkey", files["ca_key"],
        "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", files["server_cert"])
    return files


# --- the utility ------------------------------------------------------------------------

class Vtn:
    """The utility's side: publishes notifications, collects every message
    under <prefix>/ (opt responses, reports, status)."""

    def __init__(self, port, prefix="oadr", ca=None, username=None, password=None,
                 client_id="test-vtn"):
        self.prefix = prefix
        self.messages = []              # (monotonic time, topic, payload bytes, retained)
        self._lock = threading.Lock()
        self._connected = threading.Event()
        self.client = mqtt.Client(client_id=client_id, protocol=mqtt.MQTTv311)
        if username:
            self.client.username_pw_set(username, password)
        if ca:
            self.client.tls_set(ca_certs=ca)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.connect(HOST, port, keepalive=30)
        self.client.loop_start()
        if not self._connected.wait(TIMEOUT):
            raise TimeoutError("the test VTN could not connect to the broker")

    def _on_connect(self, client, userdata, flags, rc):
        if rc == 0:
            client.subscribe(f"{self.prefix}/#", qos=1)
            self._connected.set()

    def _on_message(self, client, userdata, msg):
        with self._lock:
            self.messages.append((time.monotonic(), msg.topic, bytes(msg.payload), msg.retain))

    def close(self):
        self.client.loop_stop()
        self.client.disconnect()

    # publishing

    def publish_raw(self, topic, payload, retain=False):
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        info.wait_for_publish()

    def publish(self, ev, operation="CREATE", ven=None, program=None, retain=False):
        """Publishes the notification of ev on its program's topic (or the
        VEN's, with ven)."""
        if ven:
            topic = f"{self.prefix}/vens/{ven}/events/{operation.lower()}"
        else:
            topic = f"{self.prefix}/programs/{program or ev['programID']}/events/{operation.lower()}"
        self.publish_raw(topic, json.dumps(notification(ev, operation)), retain=retain)

    # what the gateway published

    def _json(self, suffix, since=0.0):
        with self._lock:
            msgs = list(self.messages)
        out = []
        for t, topic, payload, retained in msgs:
            if t >= since and topic.endswith(suffix):
                out.append((t, topic, json.loads(payload)))
        return out

    def opts(self, event_id, since=0.0):
        return [m for _, _, m in self._json(f"/events/{event_id}/opt", since)]

    def wait_opt(self, event_id, since=0.0, timeout=TIMEOUT, count=1):
        return wait_until(lambda: len(self.opts(event_id, since)) >= count and
                          self.opts(event_id, since)[count - 1], timeout,
                          f"opt response {count} for {event_id}")

    def reports(self, since=0.0):
        return [m for _, _, m in self._json("/reports", since)]

    def statuses(self, ven, since=0.0):
        return [m for _, _, m in self._json(f"/vens/{ven}/status", since)]

    def wait_status(self, ven, status, since=0.0, timeout=TIMEOUT):
        return wait_until(lambda: any(m.get("status") == status
                                      for m in self.statuses(ven, since)),
                          timeout, f"{ven} {status}")

    def wait_online(self, ven, since=0.0, timeout=TIMEOUT):
        return self.wait_status(ven, "online", since, timeout)


def report_values(report):
    """{payload type: value} of a report's one resource and interval."""
    iv = report["resources"][0]["intervals"][0]
    return {p["type"]: p["values"][0] for p in iv["payloads"]}
