#!/usr/bin/python3
"""Validates every payload the OCPP writers produce against the official schemas.

usage: check_writers_schema.py <dump_ocpp_writers> <schema dir>

<schema dir> holds ocpp1_6.json and ocpp2_0_1.json from the npm package
ocpp-rpc (tests/setup.sh installs it into tests/node_modules). Each file is a
list of schemas keyed by "$id" ("urn:SetChargingProfile.req").

Two things python3-jsonschema gets wrong for OCPP are done exactly here:
- multipleOf with a float divisor: jsonschema divides binary doubles, so it
  refuses 0.3 or 6.1 as multiples of 0.1. Payload numbers are read as
  decimal.Decimal and checked in decimal arithmetic, which is what the schema
  means and what catches a writer printing 7.3500000001.
- format "date-time" is only checked by jsonschema when optional packages are
  installed: checked here with an RFC 3339 pattern and a calendar check.
"""
import datetime
import decimal
import json
import os
import re
import subprocess
import sys

import jsonschema
from jsonschema import validators

VERSIONS = {"1.6": "ocpp1_6.json", "2.0.1": "ocpp2_0_1.json"}
DRAFTS = {
    "draft-04": jsonschema.Draft4Validator,
    "draft-06": jsonschema.Draft6Validator,
    "draft-07": jsonschema.Draft7Validator,
}
RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def fail(msg):
    print("check_writers_schema: FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def decimal_multiple_of(validator, divisor, instance, schema):
    if not validator.is_type(instance, "number"):
        return
    quotient = decimal.Decimal(str(instance)) / decimal.Decimal(str(divisor))
    if quotient != quotient.to_integral_value():
        yield jsonschema.ValidationError(f"{instance} is not a multiple of {divisor}")


format_checker = jsonschema.FormatChecker()


@format_checker.checks("date-time", raises=ValueError)
def is_date_time(text):
    if not isinstance(text, str):
        return True
    m = RFC3339.match(text)
    if not m:
        raise ValueError(f"not an RFC 3339 date-time: {text!r}")
    y, mo, d, h, mi, s = (int(g) for g in m.groups()[:6])
    datetime.datetime(y, mo, d, h, mi, min(s, 59))  # raises on a bad calendar date
    return True


def validator_class(schema):
    uri = schema.get("$schema", "")
    for key, cls in DRAFTS.items():
        if key in uri:
            return validators.extend(cls, {"multipleOf": decimal_multiple_of})
    fail(f"{schema.get('$id')}: unsupported $schema {uri!r}")


def load_schemas(schema_dir):
    if not os.path.isdir(schema_dir):
        fail(f"schema directory {schema_dir} is missing: run tests/setup.sh "
             "(npm install --prefix tests) to install ocpp-rpc's OCPP schemas")
    out = {}
    for version, name in VERSIONS.items():
        path = os.path.join(schema_dir, name)
        if not os.path.isfile(path):
            fail(f"{path} is missing: run tests/setup.sh")
        with open(path, encoding="utf-8") as f:
            for schema in json.load(f):
                sid = schema["$id"].split(":", 1)[-1]
                cls = validator_class(schema)
                cls.check_schema(schema)
                out[(version, sid)] = cls(schema, format_checker=format_checker)
    return out


def errors_of(validator, payload):
    return sorted(e.message for e in validator.iter_errors(payload))


def self_test(schemas):
    """The checker must be able to fail: known-bad payloads must be refused,
    known-good edge cases accepted."""
    bad = [
        ("1.6", "SetChargingProfile.req",
         '{"connectorId":0,"csChargingProfiles":{"chargingProfileId":1,"stackLevel":0,'
         '"chargingProfilePurpose":"ChargePointMaxProfile","chargingProfileKind":"Absolute",'
         '"chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":'
         '[{"startPeriod":0,"limit":7.35}]}}}'),
        ("1.6", "SetChargingProfile.req",
         '{"connectorId":0,"csChargingProfiles":{"chargingProfileId":1,"stackLevel":0,'
         '"chargingProfilePurpose":"ChargePointMaxProfile","chargingProfileKind":"Absolute",'
         '"chargingSchedule":{"startSchedule":"2024-05-01T10:00:00","chargingRateUnit":"A",'
         '"chargingSchedulePeriod":[{"startPeriod":0,"limit":7.3}]}}}'),
        ("2.0.1", "SetChargingProfile.req",
         '{"evseId":0,"chargingProfile":{"id":1,"stackLevel":0,"chargingProfilePurpose":'
         '"ChargePointMaxProfile","chargingProfileKind":"Absolute","chargingSchedule":[{"id":1,'
         '"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":7.3}]}]}}'),
        ("2.0.1", "SetChargingProfile.req",
         '{"evseId":0,"chargingProfile":{"id":1,"stackLevel":0,"chargingProfilePurpose":'
         '"TxProfile","chargingProfileKind":"Absolute","chargingSchedule":[{'
         '"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":7.3}]}]}}'),
        ("2.0.1", "ClearChargingProfile.conf", '{"status":"Rejected"}'),
        ("1.6", "ClearChargingProfile.req", '{"chargingProfileId":1}'),
    ]
    good = [
        ("1.6", "SetChargingProfile.req",
         '{"connectorId":0,"csChargingProfiles":{"chargingProfileId":1,"stackLevel":0,'
         '"chargingProfilePurpose":"ChargePointMaxProfile","chargingProfileKind":"Absolute",'
         '"chargingSchedule":{"startSchedule":"2024-02-29T23:59:59Z","chargingRateUnit":"A",'
         '"chargingSchedulePeriod":[{"startPeriod":0,"limit":6.1},{"startPeriod":60,'
         '"limit":0.3}]}}}'),
    ]
    for version, sid, text in bad:
        if not errors_of(schemas[(version, sid)], json.loads(text, parse_float=decimal.Decimal)):
            fail(f"self-test: the checker accepts a bad {version} {sid}: {text}")
    for version, sid, text in good:
        errs = errors_of(schemas[(version, sid)], json.loads(text, parse_float=decimal.Decimal))
        if errs:
            fail(f"self-test: the checker refuses a good {version} {sid}: {errs}")


def main():
    if len(sys.argv) != 3:
        fail("usage: check_writers_schema.py <dump_ocpp_writers> <schema dir>")
    dumper, schema_dir = sys.argv[1], sys.argv[2]
    schemas = load_schemas(schema_dir)
    self_test(schemas)

    run = subprocess.run([dumper], capture_output=True, text=True, check=False)
    sys.stderr.write(run.stderr)
    if run.returncode != 0:
        fail(f"{dumper} exited with {run.returncode}")
    seen = {}
    bad = 0
    for n, line in enumerate(run.stdout.splitlines(), 1):
        try:
            rec = json.loads(line, parse_float=decimal.Decimal)
        except ValueError as e:
            fail(f"line {n} is not JSON ({e}): {line}")
        key = (rec["version"], rec["schema"])
        if key not in schemas:
            fail(f"line {n}: no schema {key}")
        errs = errors_of(schemas[key], rec["payload"])
        if errs:
            bad += 1
            if bad <= 20:
                print(f"line {n}: {key[0]} {key[1]}: {errs}\n  {line}", file=sys.stderr)
        seen[key] = seen.get(key, 0) + 1

    expected = [(v, s) for v in VERSIONS for s in (
        "SetChargingProfile.req", "ClearChargingProfile.req", "SetChargingProfile.conf",
        "ClearChargingProfile.conf")] + [("1.6", "GetConfiguration.req"),
                                         ("2.0.1", "GetVariables.req")]
    for key in expected:
        if key not in seen:
            fail(f"no payload for {key[0]} {key[1]}")
    if seen[("1.6", "SetChargingProfile.req")] < 500 or seen[("2.0.1", "SetChargingProfile.req")] < 500:
        fail(f"too few SetChargingProfile payloads: {seen}")
    if bad:
        fail(f"{bad} of {sum(seen.values())} payloads violate the schema")
    for key in sorted(seen):
        print(f"ok {seen[key]:5d} x {key[0]:5s} {key[1]}")
    print(f"check_writers_schema: {sum(seen.values())} payloads valid")


if __name__ == "__main__":
    main()
