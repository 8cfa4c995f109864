"""Default answers of the simulated CSMS and chargers.

Each default is a function of the CallContext (see ocpp_peer) returning the
CALLRESULT payload (a dict) or a CallError. Actions without a hand-written
default get the smallest payload their response schema accepts (see
minimal_instance), so every action of both versions is answered validly; the
self-test checks that claim action by action.
"""

import datetime
import uuid

import ocpp_schema


def now_iso(delta_s=0.0):
    """Now (plus delta_s seconds) as RFC 3339 UTC with a "Z", to the millisecond."""
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=delta_s)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


# --- the smallest valid instance of a schema ----------------------------------

_PREFERRED = ("Accepted", "NoError", "Available", "Unlocked", "Idle")


def _resolve(schema, root):
    while "$ref" in schema:
        ref = schema["$ref"]
        assert ref.startswith("#/"), ref
        node = root
        for part in ref[2:].split("/"):
            node = node[part]
        schema = node
    return schema


def minimal_instance(schema, root=None):
    """A small instance that validates against a (draft-07, OCA-style) schema:
    required properties only, preferred enum values, strings at their minimum."""
    root = root if root is not None else schema
    schema = _resolve(schema, root)
    if "enum" in schema:
        for p in _PREFERRED:
            if p in schema["enum"]:
                return p
        return schema["enum"][0]
    t = schema.get("type")
    if isinstance(t, list):
        t = t[0]
    if t == "object" or (t is None and "properties" in schema):
        props = schema.get("properties", {})
        return {k: minimal_instance(props[k], root) for k in schema.get("required", [])}
    if t == "array":
        item = schema.get("items", {})
        return [minimal_instance(item, root) for _ in range(schema.get("minItems", 0))]
    if t == "string":
        if schema.get("format") == "date-time":
            return now_iso()
        if schema.get("format") == "uri":
            return "http://127.0.0.1/"
        return "x" * schema.get("minLength", 0)
    if t == "integer":
        return int(schema.get("minimum", 0))
    if t == "number":
        return schema.get("minimum", 0)
    if t == "boolean":
        return False
    return {}


def schema_default(version, action):
    """The minimal valid response payload of an action."""
    return minimal_instance(ocpp_schema.schema(version, action, "conf"))


# --- the CSMS's answers -------------------------------------------------------

def _echo_data(ctx):
    out = {"status": "Accepted"}
    if "data" in ctx.payload:
        out["data"] = ctx.payload["data"]
    return out


def _start_transaction(ctx):
    return {"transactionId": ctx.peer.next_transaction_id(),
            "idTagInfo": {"status": "Accepted"}}


def _transaction_event(ctx):
    if "idToken" in ctx.payload:
        return {"idTokenInfo": {"status": "Accepted"}}
    return {}


CSMS_16 = {
    "BootNotification": lambda ctx: {"status": "Accepted", "currentTime": now_iso(),
                                     "interval": ctx.peer.heartbeat_interval},
    "Heartbeat": lambda ctx: {"currentTime": now_iso()},
    "Authorize": lambda ctx: {"idTagInfo": {"status": "Accepted"}},
    "StartTransaction": _start_transaction,
    "StopTransaction": lambda ctx: {"idTagInfo": {"status": "Accepted"}},
    "MeterValues": lambda ctx: {},
    "StatusNotification": lambda ctx: {},
    "DataTransfer": _echo_data,
    "DiagnosticsStatusNotification": lambda ctx: {},
    "FirmwareStatusNotification": lambda ctx: {},
    "LogStatusNotification": lambda ctx: {},
    "SecurityEventNotification": lambda ctx: {},
    "SignCertificate": lambda ctx: {"status": "Accepted"},
    "SignedFirmwareStatusNotification": lambda ctx: {},
}

CSMS_201 = {
    "BootNotification": lambda ctx: {"currentTime": now_iso(),
                                     "interval": ctx.peer.heartbeat_interval,
                                     "status": "Accepted"},
    "Heartbeat": lambda ctx: {"currentTime": now_iso()},
    "Authorize": lambda ctx: {"idTokenInfo": {"status": "Accepted"}},
    "TransactionEvent": _transaction_event,
    "StatusNotification": lambda ctx: {},
    "MeterValues": lambda ctx: {},
    "NotifyEVChargingNeeds": lambda ctx: {"status": "Accepted"},
    "NotifyEVChargingSchedule": lambda ctx: {"status": "Accepted"},
    "NotifyChargingLimit": lambda ctx: {},
    "ClearedChargingLimit": lambda ctx: {},
    "ReportChargingProfiles": lambda ctx: {},
    "NotifyEvent": lambda ctx: {},
    "NotifyReport": lambda ctx: {},
    "DataTransfer": _echo_data,
    "FirmwareStatusNotification": lambda ctx: {},
    "LogStatusNotification": lambda ctx: {},
    "SecurityEventNotification": lambda ctx: {},
    "SignCertificate": lambda ctx: {"status": "Accepted"},
}


# --- the charger's answers ----------------------------------------------------

def _status(value):
    return lambda ctx: {"status": value}


def _get_configuration(ctx):
    cfg = ctx.peer.configuration
    keys = ctx.payload.get("key")
    known, unknown = [], []
    for k in (keys if keys else list(cfg)):
        if k in cfg:
            known.append({"key": k, "readonly": cfg[k][1], "value": cfg[k][0]})
        else:
            unknown.append(k)
    out = {"configurationKey": known}
    if unknown:
        out["unknownKey"] = unknown
    return out


def _change_configuration(ctx):
    cfg = ctx.peer.configuration
    key, value = ctx.payload["key"], ctx.payload["value"]
    if key not in cfg:
        return {"status": "NotSupported"}
    if cfg[key][1]:
        return {"status": "Rejected"}
    cfg[key] = (value, False)
    return {"status": "Accepted"}


def _set_charging_profile(ctx):
    ctx.peer.store_profile(ctx)
    return {"status": "Accepted"}


def _clear_charging_profile(ctx):
    return {"status": "Accepted" if ctx.peer.clear_profiles(ctx) else "Unknown"}


def _trigger(ctx):
    ctx.after(lambda: ctx.peer.send_triggered(ctx))
    return {"status": "Accepted"}


def _send_local_list(ctx):
    ctx.peer.local_list_version = ctx.payload.get("listVersion",
                                                  ctx.payload.get("versionNumber", 0))
    return {"status": "Accepted"}


def _get_variables(ctx):
    out = []
    for item in ctx.payload.get("getVariableData", []):
        comp, var = item["component"], item["variable"]
        key = (comp["name"], var["name"])
        res = {"attributeStatus": "Accepted", "component": comp, "variable": var}
        if "attributeType" in item:
            res["attributeType"] = item["attributeType"]
        if key in ctx.peer.variables:
            res["attributeValue"] = ctx.peer.variables[key]
        elif any(c == comp["name"] for c, _ in ctx.peer.variables):
            res["attributeStatus"] = "UnknownVariable"
        else:
            res["attributeStatus"] = "UnknownComponent"
        out.append(res)
    return {"getVariableResult": out}


def _set_variables(ctx):
    out = []
    for item in ctx.payload.get("setVariableData", []):
        comp, var = item["component"], item["variable"]
        ctx.peer.variables[(comp["name"], var["name"])] = item["attributeValue"]
        out.append({"attributeStatus": "Accepted", "component": comp, "variable": var})
    return {"setVariableResult": out}


def _request_start(ctx):
    return {"status": "Accepted", "transactionId": str(uuid.uuid4())}


CHARGER_16 = {
    "RemoteStartTransaction": _status("Accepted"),
    "RemoteStopTransaction": _status("Accepted"),
    "Reset": _status("Accepted"),
    "ChangeAvailability": _status("Accepted"),
    "ChangeConfiguration": _change_configuration,
    "ClearCache": _status("Accepted"),
    "GetConfiguration": _get_configuration,
    "UnlockConnector": _status("Unlocked"),
    "SetChargingProfile": _set_charging_profile,
    "ClearChargingProfile": _clear_charging_profile,
    "GetCompositeSchedule": _status("Rejected"),
    "GetLocalListVersion": lambda ctx: {"listVersion": ctx.peer.local_list_version},
    "SendLocalList": _send_local_list,
    "GetDiagnostics": lambda ctx: {},
    "UpdateFirmware": lambda ctx: {},
    "TriggerMessage": _trigger,
    "ReserveNow": _status("Accepted"),
    "CancelReservation": _status("Accepted"),
    "DataTransfer": _echo_data,
}

CHARGER_201 = {
    "RequestStartTransaction": _request_start,
    "RequestStopTransaction": _status("Accepted"),
    "Reset": _status("Accepted"),
    "ChangeAvailability": _status("Accepted"),
    "ClearCache": _status("Accepted"),
    "UnlockConnector": _status("Unlocked"),
    "SetChargingProfile": _set_charging_profile,
    "ClearChargingProfile": _clear_charging_profile,
    "GetChargingProfiles": _status("NoProfiles"),
    "GetCompositeSchedule": _status("Rejected"),
    "GetVariables": _get_variables,
    "SetVariables": _set_variables,
    "GetBaseReport": _status("Accepted"),
    "GetReport": _status("EmptyResultSet"),
    "GetLocalListVersion": lambda ctx: {"versionNumber": ctx.peer.local_list_version},
    "SendLocalList": _send_local_list,
    "TriggerMessage": _trigger,
    "ReserveNow": _status("Accepted"),
    "CancelReservation": _status("Accepted"),
    "GetTransactionStatus": lambda ctx: {"messagesInQueue": False},
    "DataTransfer": _echo_data,
}

DEFAULTS = {
    ("csms", "1.6"): CSMS_16,
    ("csms", "2.0.1"): CSMS_201,
    ("charger", "1.6"): CHARGER_16,
    ("charger", "2.0.1"): CHARGER_201,
}
