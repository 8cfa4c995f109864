"""The official OCPP JSON schemas, and checks of whole OCPP-J frames against them.

The schemas are OCA's, as shipped by the npm package ocpp-rpc (MIT):
tests/node_modules/ocpp-rpc/lib/schemas/ocpp1_6.json and ocpp2_0_1.json, each a
list of draft-07 schemas with "$id": "urn:<Action>.req" / "urn:<Action>.conf"
(2.0.1's <Action>Request / <Action>Response are keyed the same way there).
`npm install --prefix tests` (tests/setup.sh does it) fetches them. When they are
missing, loading fails loudly: a test that validates frames must never pass
without validating.

SITEGATE_OCPP_SCHEMAS may point at another directory holding the two files.
"""

import datetime
import decimal
import json
import os
import re

import jsonschema

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DIR = os.path.join(HERE, "..", "node_modules", "ocpp-rpc", "lib", "schemas")

VERSIONS = ("1.6", "2.0.1")
SUBPROTOCOL = {"1.6": "ocpp1.6", "2.0.1": "ocpp2.0.1"}
VERSION_OF_SUBPROTOCOL = {v: k for k, v in SUBPROTOCOL.items()}
_FILES = {"1.6": "ocpp1_6.json", "2.0.1": "ocpp2_0_1.json"}

MESSAGE_ID_MAX = 36  # OCPP-J 1.6 and 2.0.1: a message id is at most 36 characters

# CALLERROR codes each OCPP-J version defines (1.6 spells "Occurence" as printed).
ERROR_CODES = {
    "1.6": frozenset({
        "NotImplemented", "NotSupported", "InternalError", "ProtocolError",
        "SecurityError", "FormationViolation", "PropertyConstraintViolation",
        "OccurenceConstraintViolation", "TypeConstraintViolation", "GenericError",
    }),
    "2.0.1": frozenset({
        "FormatViolation", "GenericError", "InternalError", "MessageTypeNotSupported",
        "NotImplemented", "NotSupported", "OccurrenceConstraintViolation",
        "PropertyConstraintViolation", "ProtocolError", "RpcFrameworkError",
        "SecurityError", "TypeConstraintViolation",
    }),
}

# Actions a charger initiates; every other action in a version's schema set is
# initiated by the CSMS (DataTransfer goes both ways).
CHARGER_INITIATED = {
    "1.6": frozenset({
        "Authorize", "BootNotification", "DataTransfer", "DiagnosticsStatusNotification",
        "FirmwareStatusNotification", "Heartbeat", "MeterValues", "StartTransaction",
        "StatusNotification", "StopTransaction",
        # Security whitepaper extension
        "LogStatusNotification", "SecurityEventNotification", "SignCertificate",
        "SignedFirmwareStatusNotification",
    }),
    "2.0.1": frozenset({
        "Authorize", "BootNotification", "ClearedChargingLimit", "DataTransfer",
        "FirmwareStatusNotification", "Get15118EVCertificate", "GetCertificateStatus",
        "Heartbeat", "LogStatusNotification", "MeterValues", "NotifyChargingLimit",
        "NotifyCustomerInformation", "NotifyDisplayMessages", "NotifyEVChargingNeeds",
        "NotifyEVChargingSchedule", "NotifyEvent", "NotifyMonitoringReport", "NotifyReport",
        "PublishFirmwareStatusNotification", "ReportChargingProfiles",
        "ReservationStatusUpdate", "SecurityEventNotification", "SignCertificate",
        "StatusNotification", "TransactionEvent",
    }),
}
BOTH_WAYS = frozenset({"DataTransfer"})


class SchemasMissing(RuntimeError):
    """The OCPP JSON schemas are not installed."""


def schema_dir():
    return os.path.abspath(os.environ.get("SITEGATE_OCPP_SCHEMAS") or DEFAULT_DIR)


def normalize_version(version):
    """'1.6' / 'ocpp1.6' / '16' -> '1.6'; likewise for 2.0.1."""
    v = str(version).strip().lower()
    if v in VERSION_OF_SUBPROTOCOL:
        return VERSION_OF_SUBPROTOCOL[v]
    v = v.replace("ocpp", "")
    if v in ("1.6", "16", "1.6j"):
        return "1.6"
    if v in ("2.0.1", "201", "2.0"):
        return "2.0.1"
    raise ValueError(f"unknown OCPP version {version!r}")


# --- draft-07 validator with the two fixes OCPP needs -------------------------

_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def is_rfc3339(value):
    """True for an RFC 3339 date-time (what JSON Schema's "date-time" means)."""
    if not isinstance(value, str):
        return True  # format only constrains strings
    m = _RFC3339.match(value)
    if not m:
        return False
    y, mo, d, h, mi, s = (int(m.group(i)) for i in range(1, 7))
    try:
        datetime.datetime(y, mo, d, h, mi, min(s, 59))  # a leap second is 60
    except ValueError:
        return False
    if s > 60:
        return False
    off = m.group(8)
    if off not in ("Z", "z") and (int(off[1:3]) > 23 or int(off[4:6]) > 59):
        return False
    return True


_FORMATS = jsonschema.FormatChecker()
_FORMATS.checks("date-time")(is_rfc3339)


def _multiple_of(validator, dB, instance, schema):
    # jsonschema divides floats (16.1 / 0.1 = 161.00000000000003 -> "not a
    # multiple"); OCPP's limits are decimals, so compare them as decimals.
    if not validator.is_type(instance, "number") or isinstance(instance, bool):
        return
    try:
        ok = decimal.Decimal(repr(instance)) % decimal.Decimal(repr(dB)) == 0
    except (decimal.InvalidOperation, OverflowError):
        ok = False
    if not ok:
        yield jsonschema.ValidationError(f"{instance!r} is not a multiple of {dB}")


_Validator = jsonschema.validators.extend(
    jsonschema.Draft7Validator, {"multipleOf": _multiple_of})

_cache = {}


def load(version):
    """{'<Action>.req'|'<Action>.conf': validator} for one version (cached)."""
    version = normalize_version(version)
    if version in _cache:
        return _cache[version]
    path = os.path.join(schema_dir(), _FILES[version])
    if not os.path.isfile(path):
        raise SchemasMissing(
            f"OCPP {version} JSON schemas not found at {path}: "
            f"run tests/setup.sh (or: npm install --prefix tests)")
    with open(path, encoding="utf-8") as f:
        schemas = json.load(f)
    table = {}
    for schema in schemas:
        key = schema.get("$id", "")
        if key.startswith("urn:"):
            key = key[4:]
        _Validator.check_schema(schema)
        table[key] = _Validator(schema, format_checker=_FORMATS)
    if not table:
        raise SchemasMissing(f"{path} holds no schemas: reinstall with tests/setup.sh")
    _cache[version] = table
    return table


def actions(version):
    """Every action with a request schema in this version."""
    return sorted(k[:-4] for k in load(version) if k.endswith(".req"))


def responder_actions(version, role):
    """Actions that `role` ('csms' or 'charger') answers in this version."""
    version = normalize_version(version)
    out = []
    for a in actions(version):
        by_charger = a in CHARGER_INITIATED[version]
        if a in BOTH_WAYS or (role == "csms") == by_charger:
            out.append(a)
    return out


def schema(version, action, kind):
    """The raw schema dict of <action>.<kind> ('req' or 'conf'), or None."""
    v = load(version).get(f"{action}.{kind}")
    return v.schema if v else None


def payload_errors(version, action, kind, payload):
    """Schema errors of one payload, as short strings ([] when valid)."""
    validator = load(version).get(f"{action}.{kind}")
    if validator is None:
        return [f"no {kind} schema for action {action!r} in OCPP {normalize_version(version)}"]
    errors = []
    for e in sorted(validator.iter_errors(payload), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(p) for p in e.absolute_path) or "(payload)"
        errors.append(f"{action}.{kind} {where}: {e.message}")
    return errors


# --- whole frames ------------------------------------------------------------

def _reject_constant(name):
    raise ValueError(f"{name} is not JSON")


def _no_duplicate_keys(pairs):
    obj = {}
    for k, v in pairs:
        if k in obj:
            raise ValueError(f"duplicate key {k!r}")
        obj[k] = v
    return obj


def parse_strict(text):
    """json.loads that refuses NaN/Infinity and duplicate keys (raises ValueError)."""
    return json.loads(text, parse_constant=_reject_constant,
                      object_pairs_hook=_no_duplicate_keys)


def envelope_errors(version, msg):
    """Errors in the OCPP-J envelope of an already-parsed message."""
    version = normalize_version(version)
    if not isinstance(msg, list):
        return ["frame is not a JSON array"]
    if not msg or type(msg[0]) is not int:
        return ["frame has no integer message type"]
    mtype = msg[0]
    shapes = {2: 4, 3: 3, 4: 5}
    if mtype not in shapes:
        return [f"unknown message type {mtype}"]
    if len(msg) != shapes[mtype]:
        return [f"message type {mtype} needs {shapes[mtype]} elements, got {len(msg)}"]
    errs = []
    mid = msg[1]
    if not isinstance(mid, str) or not mid:
        errs.append("message id is not a non-empty string")
    elif len(mid) > MESSAGE_ID_MAX:
        errs.append(f"message id longer than {MESSAGE_ID_MAX} characters")
    if mtype == 2:
        if not isinstance(msg[2], str) or not msg[2]:
            errs.append("CALL action is not a non-empty string")
        if not isinstance(msg[3], dict):
            errs.append("CALL payload is not an object")
    elif mtype == 3:
        if not isinstance(msg[2], dict):
            errs.append("CALLRESULT payload is not an object")
    else:
        code, desc, details = msg[2], msg[3], msg[4]
        if not isinstance(code, str) or code not in ERROR_CODES[version]:
            errs.append(f"CALLERROR code {code!r} is not an OCPP {version} error code")
        if not isinstance(desc, str):
            errs.append("CALLERROR description is not a string")
        elif len(desc) > 255:
            errs.append("CALLERROR description longer than 255 characters")
        if not isinstance(details, dict):
            errs.append("CALLERROR details is not an object")
    return errs


def call_errors(version, receiver, action, payload):
    """Errors of a CALL, as (kind, message) pairs: kind 'schema' for the payload,
    'direction' for an action the sender may not send; receiver is 'csms' or
    'charger', the side that received (or is about to receive) the CALL."""
    version = normalize_version(version)
    errs = [("schema", e) for e in payload_errors(version, action, "req", payload)]
    if f"{action}.req" in load(version) and action not in BOTH_WAYS:
        by_charger = action in CHARGER_INITIATED[version]
        if by_charger != (receiver == "csms"):
            sender = "charger" if receiver == "csms" else "CSMS"
            errs.append(("direction", f"{action} is not sent by a {sender} in OCPP {version}"))
    return errs
