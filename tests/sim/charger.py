#!/usr/bin/python3
"""A simulated charger: an OCPP-J 1.6 / 2.0.1 WebSocket client for tests and demos.

It connects to <url>/<id> with a subprotocol (and Basic auth when given a
password), sends CALLs and awaits their answers, records and schema-checks every
frame it receives, answers the CSMS's CALLs (RemoteStart/Stop, Reset,
SetChargingProfile, GetConfiguration, TriggerMessage, GetVariables, ...) and runs
whole charging sessions.

    /usr/bin/python3 tests/sim/charger.py --url ws://127.0.0.1:9000/ocpp --id CP01 \
        --ocpp 1.6 --sessions 3
"""

import argparse
import asyncio
import dataclasses
import os
import sys
import time
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import websockets  # noqa: E402

import ocpp_schema  # noqa: E402
from csms import basic_auth, frame_printer  # noqa: E402
from ocpp_answers import now_iso  # noqa: E402
from ocpp_peer import (CallErrorReply, CallTimeout, ConnEvent, OcppConnection, Peer,  # noqa: E402
                       PeerClosed, dumps)

# What a smart-charging capable 1.6 charger reports: key -> (value, readonly).
DEFAULT_CONFIGURATION_16 = {
    "SupportedFeatureProfiles": (
        "Core,FirmwareManagement,LocalAuthListManagement,Reservation,SmartCharging,RemoteTrigger",
        True),
    "ChargeProfileMaxStackLevel": ("10", True),
    "ChargingScheduleAllowedChargingRateUnit": ("Current,Power", True),
    "ChargingScheduleMaxPeriods": ("24", True),
    "MaxChargingProfilesInstalled": ("10", True),
    "ConnectorSwitch3to1PhaseSupported": ("false", True),
    "HeartbeatInterval": ("300", False),
    "MeterValueSampleInterval": ("60", False),
    "MeterValuesSampledData": ("Energy.Active.Import.Register,Power.Active.Import,Current.Import", False),
    "NumberOfConnectors": ("1", True),
    "AuthorizeRemoteTxRequests": ("false", False),
    "LocalAuthListEnabled": ("true", False),
    "LocalAuthListMaxLength": ("100", True),
    "SendLocalListMaxLength": ("100", True),
}

# The 2.0.1 device model variables the sim knows: (component, variable) -> value.
DEFAULT_VARIABLES_201 = {
    ("SmartChargingCtrlr", "Enabled"): "true",
    ("SmartChargingCtrlr", "Available"): "true",
    ("SmartChargingCtrlr", "ProfileStackLevel"): "10",
    ("SmartChargingCtrlr", "RateUnit"): "A,W",
    ("SmartChargingCtrlr", "PeriodsPerSchedule"): "24",
    ("SmartChargingCtrlr", "Entries"): "10",
    ("SmartChargingCtrlr", "LimitChangeSignificance"): "1.0",
    ("SmartChargingCtrlr", "Phases3to1"): "false",
    ("SmartChargingCtrlr", "ExternalControlSignalsEnabled"): "false",
    ("OCPPCommCtrlr", "HeartbeatInterval"): "300",
    ("SampledDataCtrlr", "TxUpdatedInterval"): "60",
    ("AuthCtrlr", "Enabled"): "true",
    ("LocalAuthListCtrlr", "Enabled"): "true",
}

_STATUS_201 = {"Preparing": "Occupied", "Charging": "Occupied", "SuspendedEV": "Occupied",
               "SuspendedEVSE": "Occupied", "Finishing": "Occupied"}


class SessionRefused(RuntimeError):
    """The CSMS (or gateway) refused a step of a session (Boot, Authorize, Start)."""


@dataclasses.dataclass
class SessionResult:
    version: str
    connector_id: int
    transaction_id: object          # int (1.6, from the CSMS) or str (2.0.1, ours)
    sent: list                      # the CALL frames the session sent, in order
    replies: list                   # their Replies, in order


class SimCharger(Peer):
    """The charger end. All methods run on the asyncio loop that created it."""

    role = "charger"

    def __init__(self, url, charger_id, version="1.6", password=None, subprotocols=None,
                 extra_headers=None, full_url=None, name=None, validate=True, on_frame=None,
                 open_timeout=10.0, close_timeout=2.0, ping_interval=None, id_tag="SIMTAG0001",
                 vendor="SimVendor", model=None, connectors=1, ssl=None, local_addr=None):
        super().__init__(name or charger_id, validate=validate, on_frame=on_frame,
                         close_timeout=close_timeout)
        self.charger_id = charger_id
        self.version = ocpp_schema.normalize_version(version)
        self.url = full_url or f"{url.rstrip('/')}/{urllib.parse.quote(charger_id, safe='')}"
        self.password = password
        self.offered = (list(subprotocols) if subprotocols is not None
                        else [ocpp_schema.SUBPROTOCOL[self.version]])
        self.extra_headers = list(extra_headers or [])
        self.open_timeout = open_timeout
        self.ssl = ssl                       # an ssl.SSLContext for a wss:// url
        self.local_addr = local_addr         # (host, port) to connect from
        self.ping_interval = ping_interval
        self.id_tag = id_tag
        self.vendor = vendor
        self.model = model or f"Sim-{self.version}"
        self.conn = None
        self.conn_count = 0
        self.booted = False
        self.meter_wh = 0
        self.transactions = {}               # connector/EVSE id -> transaction id
        self.connectors = connectors         # connectors (1.6) / EVSEs (2.0.1) it has
        self.configuration = dict(DEFAULT_CONFIGURATION_16)
        self.configuration["NumberOfConnectors"] = (str(connectors), True)
        self.variables = dict(DEFAULT_VARIABLES_201)
        self.profiles = []                   # installed: {"connector", "profile", "t"}
        self.profile_log = []                # every SetChargingProfile payload, in order
        self.local_list_version = 0
        self._reader = None

    # connection

    async def connect(self, timeout=None):
        """Opens the WebSocket; raises websockets' InvalidStatusCode / InvalidHandshake
        (or OSError) when the handshake is refused."""
        headers = list(self.extra_headers)
        if self.password is not None:
            headers.append(("Authorization", basic_auth(self.charger_id, self.password)))
        try:
            ws = await websockets.connect(
                self.url, subprotocols=self.offered or None, extra_headers=headers,
                open_timeout=timeout or self.open_timeout, compression=None, max_size=None,
                ping_interval=self.ping_interval, close_timeout=self.close_timeout,
                **({"ssl": self.ssl} if self.ssl else {}),
                **({"local_addr": self.local_addr} if self.local_addr else {}))
        except Exception as e:
            self._event(ConnEvent("refused", self.charger_id, time.monotonic(),
                                  offered=tuple(self.offered), path=self.url,
                                  status=getattr(e, "status_code", None), reason=repr(e)))
            raise
        version = ocpp_schema.VERSION_OF_SUBPROTOCOL.get(ws.subprotocol)
        self.conn_count += 1
        conn = OcppConnection(self, ws, self.charger_id, version or self.version, self.conn_count)
        if ws.subprotocol not in self.offered:
            self._violation(conn, "handshake",
                            f"server agreed on subprotocol {ws.subprotocol!r}, offered {self.offered}")
        self.conn = conn
        self._event(ConnEvent("connect", self.charger_id, time.monotonic(), conn.conn_no,
                              ws.subprotocol, tuple(self.offered), path=self.url))
        self._reader = asyncio.get_running_loop().create_task(conn.run())
        return self

    def _on_conn_closed(self, conn):
        self._event(ConnEvent("disconnect", conn.charger_id, time.monotonic(), conn.conn_no,
                              close_code=conn.close_code, close_reason=conn.close_reason))

    @property
    def connected(self):
        return self.conn is not None and self.conn.open

    @property
    def subprotocol(self):
        return self.conn.ws.subprotocol if self.conn else None

    @property
    def close_code(self):
        """The close code of the newest connection (None while it is open; 1006
        when it closed without a close frame)."""
        return self.conn.close_code if self.conn else None

    @property
    def close_reason(self):
        return self.conn.close_reason if self.conn else ""

    async def close(self, code=1000, reason=""):
        if self.conn is not None and self.conn.open:
            await self.conn.close(code, reason)

    async def abort(self):
        if self.conn is not None:
            self.conn.abort()
            await self.conn.closed

    async def wait_closed(self, timeout=10.0):
        """Waits for the newest connection to close; returns its close code."""
        if self.conn is None:
            raise RuntimeError(f"{self.charger_id}: never connected")
        await self.wait_for(lambda: not self.conn.open, timeout,
                            f"{self.charger_id}'s connection to close")
        return self.conn.close_code

    def _need_conn(self):
        if self.conn is None:
            raise PeerClosed(f"{self.charger_id}: not connected")
        return self.conn

    # messages

    async def call_reply(self, action, payload, timeout=10.0, message_id=None):
        """Sends a CALL; returns the Reply (CALLRESULT or CALLERROR)."""
        return await self._need_conn().call_reply(action, payload, message_id, timeout)

    async def call(self, action, payload, timeout=10.0, message_id=None):
        """Sends a CALL; returns the CALLRESULT payload, raises CallErrorReply on a CALLERROR."""
        reply = await self.call_reply(action, payload, timeout, message_id)
        if not reply.ok:
            raise CallErrorReply(reply)
        return reply.payload

    async def send_raw(self, text):
        """Sends any text as one frame (a CALL whose id can be read is tracked)."""
        return await self._need_conn().send_text(text)

    async def send_json(self, obj):
        return await self.send_raw(dumps(obj))

    async def send_bytes(self, data):
        return await self._need_conn().send_bytes(data)

    async def wait_reply(self, message_id, timeout=10.0):
        """The Reply to a CALL sent with send_raw()/send_json()."""
        return await self._need_conn().wait_reply(message_id, timeout)

    async def wait_call(self, action=None, count=1, timeout=10.0):
        """Waits until `count` CALLs (of `action`) were received; returns them all."""
        return await self.wait_received(None, count, action, types=2, timeout=timeout)

    # state kept for the CSMS's commands

    def store_profile(self, ctx):
        p = ctx.payload
        if ctx.version == "1.6":
            connector, profile = p["connectorId"], p["csChargingProfiles"]
        else:
            connector, profile = p["evseId"], p["chargingProfile"]
        self.profile_log.append({"connector": connector, "profile": profile,
                                 "t": time.monotonic(), "message_id": ctx.message_id})
        pid_key = "chargingProfileId" if ctx.version == "1.6" else "id"
        purpose = profile.get("chargingProfilePurpose")
        self.profiles = [e for e in self.profiles
                         if e["profile"].get(pid_key) != profile.get(pid_key)
                         and not (e["connector"] == connector
                                  and e["profile"].get("stackLevel") == profile.get("stackLevel")
                                  and e["profile"].get("chargingProfilePurpose") == purpose)]
        self.profiles.append({"connector": connector, "profile": profile, "t": time.monotonic()})

    def clear_profiles(self, ctx):
        p = ctx.payload
        if ctx.version == "1.6":
            pid, crit = p.get("id"), {"connector": p.get("connectorId"),
                                      "chargingProfilePurpose": p.get("chargingProfilePurpose"),
                                      "stackLevel": p.get("stackLevel")}
            pid_key = "chargingProfileId"
        else:
            c = p.get("chargingProfileCriteria", {})
            pid, crit = p.get("chargingProfileId"), {"connector": c.get("evseId"),
                                                     "chargingProfilePurpose": c.get("chargingProfilePurpose"),
                                                     "stackLevel": c.get("stackLevel")}
            pid_key = "id"

        def matches(e):
            if pid is not None:
                return e["profile"].get(pid_key) == pid
            if crit["connector"] is not None and e["connector"] != crit["connector"]:
                return False
            return all(crit[k] is None or e["profile"].get(k) == crit[k]
                       for k in ("chargingProfilePurpose", "stackLevel"))
        kept = [e for e in self.profiles if not matches(e)]
        removed = len(self.profiles) - len(kept)
        self.profiles = kept
        return removed > 0

    async def send_triggered(self, ctx):
        """Sends what a TriggerMessage asked for (after it was answered Accepted)."""
        what = ctx.payload.get("requestedMessage")
        given = ctx.payload.get("connectorId", ctx.payload.get("evse", {}).get("id"))
        connector = given or 1
        try:
            if what == "BootNotification":
                await self.boot()
            elif what == "Heartbeat":
                await self.heartbeat()
            elif what == "StatusNotification":
                # without a connector: every connector (OCPP 1.6 TriggerMessage)
                for c in ([connector] if given is not None else range(1, self.connectors + 1)):
                    await self.status("Charging" if c in self.transactions else "Available", c)
            elif what == "MeterValues":
                await self.meter_values(connector)
            elif what == "FirmwareStatusNotification":
                await self.call_reply("FirmwareStatusNotification", {"status": "Idle"})
            elif what == "DiagnosticsStatusNotification":
                await self.call_reply("DiagnosticsStatusNotification", {"status": "Idle"})
        except (CallTimeout, CallErrorReply, PeerClosed):
            pass

    # the charger's own messages

    def boot_payload(self):
        if self.version == "1.6":
            return {"chargePointVendor": self.vendor[:20], "chargePointModel": self.model[:20],
                    "chargePointSerialNumber": self.charger_id[:25], "firmwareVersion": "sim-1.0"}
        return {"chargingStation": {"model": self.model[:20], "vendorName": self.vendor[:50],
                                    "serialNumber": self.charger_id[:25],
                                    "firmwareVersion": "sim-1.0"},
                "reason": "PowerUp"}

    async def boot(self, timeout=10.0):
        r = await self.call("BootNotification", self.boot_payload(), timeout)
        self.booted = r.get("status") == "Accepted"
        return r

    async def heartbeat(self, timeout=10.0):
        return await self.call("Heartbeat", {}, timeout)

    def status_payload(self, status, connector_id=1, error_code="NoError"):
        if self.version == "1.6":
            return {"connectorId": connector_id, "errorCode": error_code, "status": status,
                    "timestamp": now_iso()}
        return {"timestamp": now_iso(), "connectorStatus": _STATUS_201.get(status, status),
                "evseId": connector_id, "connectorId": 1}

    async def status(self, status, connector_id=1, timeout=10.0):
        return await self.call("StatusNotification", self.status_payload(status, connector_id),
                               timeout)

    def sampled_values(self, context="Sample.Periodic", power_w=7360.0, current_a=32.0):
        if self.version == "1.6":
            return [
                {"value": str(self.meter_wh), "context": context,
                 "measurand": "Energy.Active.Import.Register", "unit": "Wh", "location": "Outlet"},
                {"value": f"{power_w:.1f}", "context": context,
                 "measurand": "Power.Active.Import", "unit": "W"},
                {"value": f"{current_a:.1f}", "context": context,
                 "measurand": "Current.Import", "phase": "L1", "unit": "A"},
            ]
        return [
            {"value": float(self.meter_wh), "context": context,
             "measurand": "Energy.Active.Import.Register", "unitOfMeasure": {"unit": "Wh"}},
            {"value": power_w, "context": context, "measurand": "Power.Active.Import",
             "unitOfMeasure": {"unit": "W"}},
            {"value": current_a, "context": context, "measurand": "Current.Import",
             "phase": "L1", "unitOfMeasure": {"unit": "A"}},
        ]

    async def meter_values(self, connector_id=1, timeout=10.0):
        mv = [{"timestamp": now_iso(), "sampledValue": self.sampled_values()}]
        if self.version == "1.6":
            payload = {"connectorId": connector_id, "meterValue": mv}
            if connector_id in self.transactions:
                payload["transactionId"] = self.transactions[connector_id]
        else:
            payload = {"evseId": connector_id, "meterValue": mv}
        return await self.call("MeterValues", payload, timeout)

    async def session(self, connector_id=1, id_tag=None, meter_values=2, interval=0.0,
                      energy_step_wh=250, boot=None, ev_needs=False, timeout=10.0):
        """One whole charging session. 1.6: (Boot,) StatusNotification, Authorize,
        StartTransaction, MeterValues..., StopTransaction, StatusNotification.
        2.0.1: (Boot,) StatusNotification, Authorize, TransactionEvent Started,
        (NotifyEVChargingNeeds,) Updated..., Ended, StatusNotification.
        Boots first unless already booted (boot=True/False forces it). `interval`
        paces the messages (for demos). Raises SessionRefused on a refusal."""
        steps = _SessionSteps(self, timeout, interval)
        if boot or (boot is None and not self.booted):
            r = await steps.call("BootNotification", self.boot_payload())
            if r.payload.get("status") != "Accepted":
                raise SessionRefused(f"{self.charger_id}: BootNotification {r.payload}")
            self.booted = True
            await steps.call("StatusNotification", self.status_payload("Available", connector_id))
        tag = id_tag or self.id_tag
        if self.version == "1.6":
            return await self._session_16(steps, connector_id, tag, meter_values, energy_step_wh)
        return await self._session_201(steps, connector_id, tag, meter_values, energy_step_wh,
                                       ev_needs)

    async def _session_16(self, steps, connector, tag, meter_values, step_wh):
        await steps.call("StatusNotification", self.status_payload("Preparing", connector))
        r = await steps.call("Authorize", {"idTag": tag})
        if r.payload["idTagInfo"]["status"] != "Accepted":
            raise SessionRefused(f"{self.charger_id}: Authorize {r.payload}")
        r = await steps.call("StartTransaction", {"connectorId": connector, "idTag": tag,
                                                  "meterStart": self.meter_wh,
                                                  "timestamp": now_iso()})
        if r.payload["idTagInfo"]["status"] != "Accepted":
            raise SessionRefused(f"{self.charger_id}: StartTransaction {r.payload}")
        tx = r.payload["transactionId"]
        self.transactions[connector] = tx
        await steps.call("StatusNotification", self.status_payload("Charging", connector))
        for _ in range(meter_values):
            self.meter_wh += step_wh
            await steps.call("MeterValues", {
                "connectorId": connector, "transactionId": tx,
                "meterValue": [{"timestamp": now_iso(), "sampledValue": self.sampled_values()}]})
        self.meter_wh += step_wh
        await steps.call("StopTransaction", {
            "transactionId": tx, "idTag": tag, "meterStop": self.meter_wh,
            "timestamp": now_iso(), "reason": "Local",
            "transactionData": [{"timestamp": now_iso(),
                                 "sampledValue": self.sampled_values("Transaction.End")}]})
        del self.transactions[connector]
        await steps.call("StatusNotification", self.status_payload("Finishing", connector))
        await steps.call("StatusNotification", self.status_payload("Available", connector))
        return steps.result(self.version, connector, tx)

    async def _session_201(self, steps, evse, tag, meter_values, step_wh, ev_needs):
        token = {"idToken": tag, "type": "ISO14443"}
        await steps.call("StatusNotification", self.status_payload("Occupied", evse))
        r = await steps.call("Authorize", {"idToken": token})
        if r.payload["idTokenInfo"]["status"] != "Accepted":
            raise SessionRefused(f"{self.charger_id}: Authorize {r.payload}")
        tx = str(uuid.uuid4())
        self.transactions[evse] = tx
        seq = 0

        def event(kind, trigger, state, context, **extra):
            nonlocal seq
            info = {"transactionId": tx, "chargingState": state}
            info.update(extra.pop("info", {}))
            p = {"eventType": kind, "timestamp": now_iso(), "triggerReason": trigger,
                 "seqNo": seq, "transactionInfo": info,
                 "meterValue": [{"timestamp": now_iso(),
                                 "sampledValue": self.sampled_values(context)}]}
            p.update(extra)
            seq += 1
            return p

        await steps.call("TransactionEvent", event(
            "Started", "Authorized", "Charging", "Transaction.Begin", idToken=token,
            evse={"id": evse, "connectorId": 1}))
        if ev_needs:
            await steps.call("NotifyEVChargingNeeds", {
                "evseId": evse, "maxScheduleTuples": 24,
                "chargingNeeds": {"requestedEnergyTransfer": "AC_three_phase",
                                  "departureTime": now_iso(4 * 3600),
                                  "acChargingParameters": {"energyAmount": 20000, "evMinCurrent": 6,
                                                           "evMaxCurrent": 32, "evMaxVoltage": 400}}})
        for _ in range(meter_values):
            self.meter_wh += step_wh
            await steps.call("TransactionEvent", event(
                "Updated", "MeterValuePeriodic", "Charging", "Sample.Periodic"))
        self.meter_wh += step_wh
        await steps.call("TransactionEvent", event(
            "Ended", "StopAuthorized", "EVConnected", "Transaction.End",
            info={"stoppedReason": "Local"}, idToken=token))
        del self.transactions[evse]
        await steps.call("StatusNotification", self.status_payload("Available", evse))
        return steps.result(self.version, evse, tx)


class _SessionSteps:
    def __init__(self, charger, timeout, interval):
        self.charger, self.timeout, self.interval = charger, timeout, interval
        self.sent, self.replies = [], []

    async def call(self, action, payload):
        ch = self.charger
        mid = ch.new_message_id()
        frame = await ch.send_json([2, mid, action, payload])
        reply = await ch.wait_reply(mid, self.timeout)
        self.sent.append(frame)
        self.replies.append(reply)
        if not reply.ok:
            raise CallErrorReply(reply)
        if self.interval:
            await asyncio.sleep(self.interval)  # pacing for demos, not synchronization
        return reply

    def result(self, version, connector, tx):
        return SessionResult(version, connector, tx, self.sent, self.replies)


# --- command line ----------------------------------------------------------------

async def _connect_retrying(ch, deadline):
    while True:
        try:
            return await ch.connect(timeout=5)
        except (OSError, websockets.InvalidHandshake, asyncio.TimeoutError) as e:
            if time.monotonic() > deadline:
                raise
            print(f"{ch.charger_id:6} | connect failed ({e!r}), retrying", flush=True)
            await asyncio.sleep(0.5)


async def _main(args):
    ch = SimCharger(args.url, args.id, args.ocpp, password=args.password, id_tag=args.id_tag,
                    validate=not args.no_validate,
                    on_frame=None if args.quiet else frame_printer(f"{args.id:6} |"))
    await _connect_retrying(ch, time.monotonic() + args.connect_timeout)
    print(f"{args.id:6} | connected to {ch.url} ({ch.subprotocol})", flush=True)
    done = 0
    failed = False
    try:
        while args.sessions == 0 or done < args.sessions:
            try:
                r = await ch.session(meter_values=args.meter_values, interval=args.interval,
                                     boot=True if done == 0 else None)
                done += 1
                print(f"{args.id:6} | session {done} done (transaction {r.transaction_id})",
                      flush=True)
            except PeerClosed:
                if args.sessions != 0:
                    raise
                print(f"{args.id:6} | connection closed ({ch.close_code}), reconnecting", flush=True)
                ch.booted = False
                await _connect_retrying(ch, time.monotonic() + args.connect_timeout)
                continue
            if args.pause and (args.sessions == 0 or done < args.sessions):
                await asyncio.sleep(args.pause)
    except (PeerClosed, CallTimeout, CallErrorReply, SessionRefused) as e:
        print(f"{args.id:6} | session failed: {e}", flush=True)
        failed = True
    finally:
        await ch.close()
    if ch.violations:
        print(f"{args.id:6} | {len(ch.violations)} schema/protocol violation(s)", flush=True)
    return 1 if failed or ch.violations else 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", required=True, help="base URL; the charger id is appended")
    ap.add_argument("--id", required=True, help="charger id (identity)")
    ap.add_argument("--ocpp", default="1.6", choices=["1.6", "2.0.1"])
    ap.add_argument("--password", help="Basic-auth password")
    ap.add_argument("--sessions", type=int, default=1, help="sessions to run (0: forever)")
    ap.add_argument("--meter-values", type=int, default=2, help="meter values per session")
    ap.add_argument("--interval", type=float, default=0.0, help="seconds between messages")
    ap.add_argument("--pause", type=float, default=0.0, help="seconds between sessions")
    ap.add_argument("--id-tag", default="SIMTAG0001")
    ap.add_argument("--connect-timeout", type=float, default=30.0,
                    help="keep retrying to connect for this long")
    ap.add_argument("--no-validate", action="store_true",
                    help="do not check frames against the OCPP JSON schemas")
    ap.add_argument("--quiet", action="store_true", help="do not print every frame")
    args = ap.parse_args(argv)
    try:
        return asyncio.run(_main(args))
    except ocpp_schema.SchemasMissing as e:
        print(f"charger: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
