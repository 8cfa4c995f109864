/* The config loader: every key's bad values with the exact error text, the
 * defaults, charger_defaults inheritance, the check pass, secrets from files,
 * hostile JSON, and the example config. Each failing parse must also leave the
 * struct freed (ASan in CI catches the leaks; the zero check catches the rest). */
/* nftw() is XSI. */
#define _XOPEN_SOURCE 700

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "config_test.h"
#include "password.h"
#include "test.h"

/* Valid, and touches every section, so a test can change one key in place. */
static const char BASE[] =
    "{\"site\":{\"id\":\"S1\",\"grid_limit_kw\":100,"
    "\"schedule\":[{\"from\":\"18:00\",\"to\":\"22:00\",\"grid_limit_kw\":50}]},"
    "\"listen\":{},\"upstream\":{\"url\":\"ws://127.0.0.1:9100/ocpp\"},"
    "\"charger_defaults\":{},\"chargers\":[{\"id\":\"CP01\"}],\"balancer\":{},\"limits\":{}}";

/* --- bad values: one row per (key, value) -------------------------------- */

struct bad {
    const char *path;
    const char *value; /* JSON text; NULL removes the key */
    const char *error;
};

#define S49 "\"0123456789012345678901234567890123456789012345678\""
#define P65 "\"/0123456789012345678901234567890123456789012345678901234567890123\""
#define PW64 "\"S3cr3tS3cr3tS3cr3tS3cr3tS3cr3tS3cr3tS3cr3tS3cr3tS3cr3tS3cr3tS3cr\""
#define PW65 "\"S3cr3tS3cr3tS3cr3tS3cr3tS3cr3tS3cr3tS3cr3tS3cr3tS3cr3tS3cr3tS3cr3\""

static const struct bad bad_values[] = {
    /* top level */
    { "bogus", "1", "bogus: unknown key" },
    { "state_dir", "1", "state_dir: must be a string" },
    { "state_dir", "\"\"", "state_dir: must be 1 to 4096 characters" },
    { "log_level", "\"verbose\"", "log_level: must be one of \"error\", \"warn\", \"info\", \"debug\"" },
    { "log_level", "2", "log_level: must be one of \"error\", \"warn\", \"info\", \"debug\"" },
    { "log_level", "\"INFO\"", "log_level: must be one of \"error\", \"warn\", \"info\", \"debug\"" },

    /* site */
    { "site", NULL, "site: is required" },
    { "site", "[]", "site: must be an object" },
    { "site", "null", "site: must be an object" },
    { "site.grid_limt_kw", "100", "site.grid_limt_kw: unknown key" },
    { "site.id", NULL, "site.id: is required" },
    { "site.id", "5", "site.id: must be a string" },
    { "site.id", "\"\"", "site.id: must be 1 to 48 characters" },
    { "site.id", S49, "site.id: must be 1 to 48 characters" },
    { "site.id", "\"a/b\"", "site.id: may only contain letters, digits and ._-" },
    { "site.id", "\"a:b\"", "site.id: may only contain letters, digits and ._-" },
    { "site.id", "\"DEPOT 01\"", "site.id: may only contain letters, digits and ._-" },
    { "site.id", "\"..\"", "site.id: must not be \".\" or \"..\"" },
    { "site.timezone", "1", "site.timezone: must be a string" },
    { "site.timezone", "\"\"", "site.timezone: must be 1 to 64 characters" },
    { "site.timezone", "\"../../etc/passwd\"",
      "site.timezone: must be an IANA time zone name like \"Asia/Kolkata\"" },
    { "site.timezone", "\"/etc/localtime\"",
      "site.timezone: must be an IANA time zone name like \"Asia/Kolkata\"" },
    { "site.timezone", "\"Asia/\"",
      "site.timezone: must be an IANA time zone name like \"Asia/Kolkata\"" },
    { "site.timezone", "\"Asia Kolkata\"",
      "site.timezone: must be an IANA time zone name like \"Asia/Kolkata\"" },
    { "site.grid_limit_kw", NULL, "site.grid_limit_kw: is required" },
    { "site.grid_limit_kw", "\"100\"", "site.grid_limit_kw: must be a number" },
    { "site.grid_limit_kw", "0", "site.grid_limit_kw: must be greater than 0 and at most 100000" },
    { "site.grid_limit_kw", "-5", "site.grid_limit_kw: must be greater than 0 and at most 100000" },
    { "site.grid_limit_kw", "100000.5",
      "site.grid_limit_kw: must be greater than 0 and at most 100000" },
    { "site.grid_limit_kw", "1e999", "site.grid_limit_kw: must be a finite number" },
    { "site.grid_limit_kw", "-1e999", "site.grid_limit_kw: must be a finite number" },
    { "site.phase_limit_a", "true", "site.phase_limit_a: must be a number" },
    { "site.phase_limit_a", "0", "site.phase_limit_a: must be greater than 0 and at most 100000" },
    { "site.phase_limit_a", "100001",
      "site.phase_limit_a: must be greater than 0 and at most 100000" },
    { "site.margin_kw", "\"5\"", "site.margin_kw: must be a number" },
    { "site.margin_kw", "-0.1", "site.margin_kw: must be between 0 and 100000" },
    { "site.margin_kw", "100", "site.margin_kw: must be less than site.grid_limit_kw (100)" },
    { "site.voltage_v", "null", "site.voltage_v: must be a number" },
    { "site.voltage_v", "99.9", "site.voltage_v: must be between 100 and 480" },
    { "site.voltage_v", "481", "site.voltage_v: must be between 100 and 480" },
    { "site.schedule", "{}", "site.schedule: must be an array" },
    { "site.schedule[0]", "1", "site.schedule[0]: must be an object" },
    { "site.schedule[0].typo", "1", "site.schedule[0].typo: unknown key" },
    { "site.schedule[0].from", NULL, "site.schedule[0].from: is required" },
    { "site.schedule[0].to", NULL, "site.schedule[0].to: is required" },
    { "site.schedule[0].from", "1800",
      "site.schedule[0].from: must be a time \"HH:MM\" from 00:00 to 23:59" },
    { "site.schedule[0].from", "\"7:00\"",
      "site.schedule[0].from: must be a time \"HH:MM\" from 00:00 to 23:59" },
    { "site.schedule[0].from", "\"07:0\"",
      "site.schedule[0].from: must be a time \"HH:MM\" from 00:00 to 23:59" },
    { "site.schedule[0].from", "\"24:00\"",
      "site.schedule[0].from: must be a time \"HH:MM\" from 00:00 to 23:59" },
    { "site.schedule[0].to", "\"12:60\"",
      "site.schedule[0].to: must be a time \"HH:MM\" from 00:00 to 23:59" },
    { "site.schedule[0].to", "\"12:00:00\"",
      "site.schedule[0].to: must be a time \"HH:MM\" from 00:00 to 23:59" },
    { "site.schedule[0].to", "\"1a:00\"",
      "site.schedule[0].to: must be a time \"HH:MM\" from 00:00 to 23:59" },
    { "site.schedule[0].to", "\"12.00\"",
      "site.schedule[0].to: must be a time \"HH:MM\" from 00:00 to 23:59" },
    { "site.schedule[0].to", "\"18:00\"", "site.schedule[0].to: must differ from \"from\"" },
    { "site.schedule[0].grid_limit_kw", NULL,
      "site.schedule[0]: needs grid_limit_kw or phase_limit_a" },
    { "site.schedule[0].grid_limit_kw", "\"50\"",
      "site.schedule[0].grid_limit_kw: must be a number" },
    { "site.schedule[0].grid_limit_kw", "0",
      "site.schedule[0].grid_limit_kw: must be greater than 0 and at most 100000" },
    { "site.schedule[0].grid_limit_kw", "150",
      "site.schedule[0].grid_limit_kw: 150 is above site.grid_limit_kw (100)" },
    { "site.schedule[0].phase_limit_a", "-1",
      "site.schedule[0].phase_limit_a: must be greater than 0 and at most 100000" },

    /* listen */
    { "listen", "1", "listen: must be an object" },
    { "listen.adress", "\"::\"", "listen.adress: unknown key" },
    { "listen.address", "7", "listen.address: must be a string" },
    { "listen.address", "\"\"", "listen.address: must be 1 to 253 characters" },
    { "listen.address", "\"bad host!\"", "listen.address: must be an IP address or a host name" },
    { "listen.address", "\"256.1.1.1\"", "listen.address: must be an IP address or a host name" },
    { "listen.address", "\"-gw.local\"", "listen.address: must be an IP address or a host name" },
    { "listen.address", "\"[::1]\"", "listen.address: must be an IP address or a host name" },
    { "listen.port", "\"9000\"", "listen.port: must be an integer" },
    { "listen.port", "0", "listen.port: must be between 1 and 65535" },
    { "listen.port", "65536", "listen.port: must be between 1 and 65535" },
    { "listen.port", "9000.5", "listen.port: must be an integer" },
    { "listen.port", "1e999", "listen.port: must be a finite number" },
    { "listen.path", "1", "listen.path: must be a string" },
    { "listen.path", "\"\"", "listen.path: must be 1 to 64 characters" },
    { "listen.path", P65, "listen.path: must be 1 to 64 characters" },
    { "listen.path", "\"ocpp\"", "listen.path: must start with /" },
    { "listen.path", "\"/oc pp\"", "listen.path: must not contain spaces" },
    { "listen.path", "\"/ocpp?x\"", "listen.path: may only contain letters, digits and /._~-" },
    { "listen.path", "\"/a//b\"", "listen.path: must not contain empty, \".\" or \"..\" segments" },
    { "listen.path", "\"/a/../b\"",
      "listen.path: must not contain empty, \".\" or \"..\" segments" },
    { "listen.path", "\"//\"", "listen.path: must not contain empty, \".\" or \"..\" segments" },
    { "listen.ping_interval_s", "true", "listen.ping_interval_s: must be an integer" },
    { "listen.ping_interval_s", "-1", "listen.ping_interval_s: must be between 0 and 3600" },
    { "listen.ping_interval_s", "3601", "listen.ping_interval_s: must be between 0 and 3600" },
    { "listen.allow_unknown_chargers", "1", "listen.allow_unknown_chargers: must be true or false" },
    { "listen.allow_unknown_chargers", "\"yes\"",
      "listen.allow_unknown_chargers: must be true or false" },

    /* upstream */
    { "upstream", NULL, "upstream: is required" },
    { "upstream", "\"ws://x\"", "upstream: must be an object" },
    { "upstream.uri", "\"ws://x\"", "upstream.uri: unknown key" },
    { "upstream.url", NULL, "upstream.url: is required" },
    { "upstream.url", "1", "upstream.url: must be a string" },
    { "upstream.url", "\"\"", "upstream.url: must be 1 to 512 characters" },
    { "upstream.url", "\"http://csms/ocpp\"", "upstream.url: must start with ws:// or wss://" },
    { "upstream.url", "\"WS://csms/ocpp\"", "upstream.url: must start with ws:// or wss://" },
    { "upstream.url", "\"csms/ocpp\"", "upstream.url: must start with ws:// or wss://" },
    { "upstream.url", "\"ws://\"", "upstream.url: must have a host" },
    { "upstream.url", "\"wss:///ocpp\"", "upstream.url: must have a host" },
    { "upstream.url", "\"ws://:9100/ocpp\"", "upstream.url: must have a host" },
    { "upstream.url", "\"ws://csms/ocpp/\"", "upstream.url: must not end with /" },
    { "upstream.url", "\"ws://csms/\"", "upstream.url: must not end with /" },
    { "upstream.url", "\"ws://csms/ocpp?x=1\"", "upstream.url: must not have a query or fragment" },
    { "upstream.url", "\"ws://csms/ocpp#f\"", "upstream.url: must not have a query or fragment" },
    { "upstream.url", "\"ws://csms /ocpp\"",
      "upstream.url: must not contain spaces or control characters" },
    { "upstream.url", "\"ws://user:pw@csms/ocpp\"",
      "upstream.url: must not contain credentials (use chargers[].upstream_password)" },
    { "upstream.url", "\"ws://csms:0/ocpp\"", "upstream.url: port must be between 1 and 65535" },
    { "upstream.url", "\"ws://csms:65536\"", "upstream.url: port must be between 1 and 65535" },
    { "upstream.url", "\"ws://csms:/ocpp\"", "upstream.url: port must be between 1 and 65535" },
    { "upstream.url", "\"ws://csms:80x/ocpp\"", "upstream.url: port must be between 1 and 65535" },
    { "upstream.url", "\"ws://[::1/ocpp\"", "upstream.url: has a malformed IPv6 address" },
    { "upstream.url", "\"ws://[nope]:80/ocpp\"", "upstream.url: has a malformed IPv6 address" },
    { "upstream.url", "\"ws://bad_host/ocpp\"", "upstream.url: has a malformed host name" },
    { "upstream.url", "\"ws://csms/a//b\"", "upstream.url: must not contain an empty path segment" },
    { "upstream.mode", "\"relay\"",
      "upstream.mode: must be one of \"passthrough\", \"aggregate\"" },
    { "upstream.mode", "0", "upstream.mode: must be one of \"passthrough\", \"aggregate\"" },
    { "upstream.ca_file", "1", "upstream.ca_file: must be a string" },
    { "upstream.ca_file", "\"\"", "upstream.ca_file: must be 1 to 4096 characters" },
    { "upstream.ca_file", "\"/nonexistent/ca.pem\"",
      "upstream.ca_file: cannot read /nonexistent/ca.pem: No such file or directory" },
    { "upstream.ca_file", "\"/\"", "upstream.ca_file: cannot read /: Is a directory" },
    { "upstream.ca_file", "\"/dev/null\"", "upstream.ca_file: cannot read /dev/null: not a regular file" },
    { "upstream.tls_verify", "0", "upstream.tls_verify: must be true or false" },
    { "upstream.tls_verify", "\"false\"", "upstream.tls_verify: must be true or false" },
    { "upstream.call_timeout_s", "[]", "upstream.call_timeout_s: must be an integer" },
    { "upstream.call_timeout_s", "0", "upstream.call_timeout_s: must be between 1 and 600" },
    { "upstream.call_timeout_s", "601", "upstream.call_timeout_s: must be between 1 and 600" },
    { "upstream.ping_interval_s", "-1", "upstream.ping_interval_s: must be between 0 and 3600" },
    { "upstream.ping_interval_s", "3601", "upstream.ping_interval_s: must be between 0 and 3600" },
    { "upstream.ping_interval_s", "1.5", "upstream.ping_interval_s: must be an integer" },
    { "upstream.reconnect_min_s", "\"1\"", "upstream.reconnect_min_s: must be a number" },
    { "upstream.reconnect_min_s", "0.05", "upstream.reconnect_min_s: must be between 0.1 and 600" },
    { "upstream.reconnect_min_s", "601", "upstream.reconnect_min_s: must be between 0.1 and 600" },
    { "upstream.reconnect_max_s", "false", "upstream.reconnect_max_s: must be a number" },
    { "upstream.reconnect_max_s", "3601",
      "upstream.reconnect_max_s: must be between 0.1 and 3600" },
    { "upstream.reconnect_max_s", "0.5",
      "upstream.reconnect_max_s: must be at least upstream.reconnect_min_s (1)" },

    /* chargers[] */
    { "chargers", "{}", "chargers: must be an array" },
    { "chargers[0]", "\"CP01\"", "chargers[0]: must be an object" },
    { "chargers[0].ID", "\"x\"", "chargers[0].ID: unknown key" },
    { "chargers[0].id", NULL, "chargers[0].id: is required" },
    { "chargers[0].id", "1", "chargers[0].id: must be a string" },
    { "chargers[0].id", "\"\"", "chargers[0].id: must be 1 to 48 characters" },
    { "chargers[0].id", S49, "chargers[0].id: must be 1 to 48 characters" },
    { "chargers[0].id", "\"CP/01\"", "chargers[0].id: may only contain letters, digits and ._:-" },
    { "chargers[0].id", "\"CP%01\"", "chargers[0].id: may only contain letters, digits and ._:-" },
    { "chargers[0].id", "\"CP 01\"", "chargers[0].id: may only contain letters, digits and ._:-" },
    { "chargers[0].id", "\".\"", "chargers[0].id: must not be \".\" or \"..\"" },
    { "chargers[0].connectors", "\"1\"", "chargers[0].connectors: must be an integer" },
    { "chargers[0].connectors", "0", "chargers[0].connectors: must be between 1 and 16" },
    { "chargers[0].connectors", "17", "chargers[0].connectors: must be between 1 and 16" },
    { "chargers[0].phases", "2", "chargers[0].phases: must be 1 or 3" },
    { "chargers[0].phases", "0", "chargers[0].phases: must be between 1 and 3" },
    { "chargers[0].phases", "4", "chargers[0].phases: must be between 1 and 3" },
    { "chargers[0].phase", "\"L2\"",
      "chargers[0].phase: only for single-phase chargers (phases is 3)" },
    { "chargers[0].phase", "\"L4\"", "chargers[0].phase: must be one of \"L1\", \"L2\", \"L3\"" },
    { "chargers[0].phase", "2", "chargers[0].phase: must be one of \"L1\", \"L2\", \"L3\"" },
    { "chargers[0].min_current_a", "\"6\"", "chargers[0].min_current_a: must be a number" },
    { "chargers[0].min_current_a", "-1", "chargers[0].min_current_a: must be between 0 and 80" },
    { "chargers[0].min_current_a", "80.1", "chargers[0].min_current_a: must be between 0 and 80" },
    { "chargers[0].max_current_a", "{}", "chargers[0].max_current_a: must be a number" },
    { "chargers[0].max_current_a", "-1", "chargers[0].max_current_a: must be between 0 and 630" },
    { "chargers[0].max_current_a", "631", "chargers[0].max_current_a: must be between 0 and 630" },
    { "chargers[0].max_current_a", "5",
      "chargers[0].max_current_a: must be at least min_current_a (6)" },
    { "chargers[0].priority", "1.5", "chargers[0].priority: must be an integer" },
    { "chargers[0].priority", "-101", "chargers[0].priority: must be between -100 and 100" },
    { "chargers[0].priority", "101", "chargers[0].priority: must be between -100 and 100" },
    { "chargers[0].charging_rate_unit", "\"kW\"",
      "chargers[0].charging_rate_unit: must be one of \"auto\", \"A\", \"W\"" },
    { "chargers[0].profile", "\"tx\"",
      "chargers[0].profile: must be one of \"auto\", \"charge_point_max\", \"tx_default\"" },
    { "chargers[0].stack_level", "-2", "chargers[0].stack_level: must be between -1 and 100" },
    { "chargers[0].stack_level", "101", "chargers[0].stack_level: must be between -1 and 100" },
    { "chargers[0].smart_charging", "true",
      "chargers[0].smart_charging: must be one of \"auto\", \"on\", \"off\"" },
    { "chargers[0].password_hash", "1", "chargers[0].password_hash: must be a string" },
    { "chargers[0].password_hash", "\"hunter2\"",
      "chargers[0].password_hash: not a valid password hash (make one with sitegate "
      "--hash-password)" },
    { "chargers[0].password_file", "2", "chargers[0].password_file: must be a string" },
    { "chargers[0].password_file", "\"\"", "chargers[0].password_file: must be 1 to 4096 characters" },
    { "chargers[0].password_file", "\"/nonexistent/pw\"",
      "chargers[0].password_file: cannot read /nonexistent/pw: No such file or directory" },
    { "chargers[0].password_file", "\"/dev/zero\"",
      "chargers[0].password_file: cannot read /dev/zero: not a regular file" },
    { "chargers[0].upstream_password", "1", "chargers[0].upstream_password: must be a string" },
    { "chargers[0].upstream_password", "\"\"",
      "chargers[0].upstream_password: must be 1 to 64 characters" },
    { "chargers[0].upstream_password", PW65,
      "chargers[0].upstream_password: must be 1 to 64 characters" },
    { "chargers[0].upstream_password_file", "[]",
      "chargers[0].upstream_password_file: must be a string" },
    { "chargers[0].upstream_password_file", "\"/nonexistent/up\"",
      "chargers[0].upstream_password_file: cannot read /nonexistent/up: No such file or directory" },

    /* charger_defaults: the electrical keys only */
    { "charger_defaults", "[]", "charger_defaults: must be an object" },
    { "charger_defaults.id", "\"CP09\"", "charger_defaults.id: only allowed in chargers[] entries" },
    { "charger_defaults.password_hash", "\"x\"",
      "charger_defaults.password_hash: only allowed in chargers[] entries" },
    { "charger_defaults.password_file", "\"x\"",
      "charger_defaults.password_file: only allowed in chargers[] entries" },
    { "charger_defaults.upstream_password", "\"x\"",
      "charger_defaults.upstream_password: only allowed in chargers[] entries" },
    { "charger_defaults.upstream_password_file", "\"x\"",
      "charger_defaults.upstream_password_file: only allowed in chargers[] entries" },
    { "charger_defaults.conectors", "1", "charger_defaults.conectors: unknown key" },
    { "charger_defaults.connectors", "17", "charger_defaults.connectors: must be between 1 and 16" },
    { "charger_defaults.phases", "2", "charger_defaults.phases: must be 1 or 3" },
    { "charger_defaults.phase", "\"L1\"",
      "charger_defaults.phase: only for single-phase chargers (phases is 3)" },
    { "charger_defaults.min_current_a", "81",
      "charger_defaults.min_current_a: must be between 0 and 80" },
    { "charger_defaults.min_current_a", "40",
      "charger_defaults.max_current_a: must be at least min_current_a (40)" },
    { "charger_defaults.max_current_a", "700",
      "charger_defaults.max_current_a: must be between 0 and 630" },
    { "charger_defaults.priority", "\"high\"", "charger_defaults.priority: must be an integer" },
    { "charger_defaults.charging_rate_unit", "\"a\"",
      "charger_defaults.charging_rate_unit: must be one of \"auto\", \"A\", \"W\"" },
    { "charger_defaults.profile", "null",
      "charger_defaults.profile: must be one of \"auto\", \"charge_point_max\", \"tx_default\"" },
    { "charger_defaults.stack_level", "-1.5", "charger_defaults.stack_level: must be an integer" },
    { "charger_defaults.smart_charging", "\"yes\"",
      "charger_defaults.smart_charging: must be one of \"auto\", \"on\", \"off\"" },

    /* balancer */
    { "balancer", "[]", "balancer: must be an object" },
    { "balancer.deadband", "1", "balancer.deadband: unknown key" },
    { "balancer.increase_interval_s", "-1",
      "balancer.increase_interval_s: must be between 0 and 3600" },
    { "balancer.increase_interval_s", "3601",
      "balancer.increase_interval_s: must be between 0 and 3600" },
    { "balancer.increase_interval_s", "\"30\"", "balancer.increase_interval_s: must be an integer" },
    { "balancer.deadband_a", "-0.5", "balancer.deadband_a: must be between 0 and 32" },
    { "balancer.deadband_a", "32.5", "balancer.deadband_a: must be between 0 and 32" },
    { "balancer.deadband_a", "\"1\"", "balancer.deadband_a: must be a number" },
    { "balancer.headroom_a", "-1", "balancer.headroom_a: must be between 0 and 32" },
    { "balancer.headroom_a", "33", "balancer.headroom_a: must be between 0 and 32" },
    { "balancer.headroom_a", "true", "balancer.headroom_a: must be a number" },
    { "balancer.profile_id", "0", "balancer.profile_id: must be between 1 and 2147483647" },
    { "balancer.profile_id", "2147483648", "balancer.profile_id: must be between 1 and 2147483647" },
    { "balancer.profile_id", "1000.1", "balancer.profile_id: must be an integer" },
    { "balancer.stack_level", "-2", "balancer.stack_level: must be between -1 and 100" },
    { "balancer.stack_level", "101", "balancer.stack_level: must be between -1 and 100" },
    { "balancer.stack_level", "null", "balancer.stack_level: must be an integer" },

    /* offline */
    { "offline", "[]", "offline: must be an object" },
    { "offline.unknown_tag", "\"accept\"", "offline.unknown_tag: unknown key" },
    { "offline.unknown_tags", "\"maybe\"",
      "offline.unknown_tags: must be one of \"reject\", \"accept\"" },
    { "offline.unknown_tags", "true", "offline.unknown_tags: must be one of \"reject\", \"accept\"" },
    { "offline.heartbeat_interval_s", "9", "offline.heartbeat_interval_s: must be between 10 and 86400" },
    { "offline.heartbeat_interval_s", "86401",
      "offline.heartbeat_interval_s: must be between 10 and 86400" },
    { "offline.auth_cache_s", "-1", "offline.auth_cache_s: must be between 0 and 31536000" },
    { "offline.replay_interval_ms", "60001",
      "offline.replay_interval_ms: must be between 0 and 60000" },
    { "offline.max_queue_mb", "0", "offline.max_queue_mb: must be between 1 and 1048576" },
    { "offline.hold_s", "0", "offline.hold_s: must be between 1 and 600" },
    { "upstream.reconnect_rate_per_s", "0", "upstream.reconnect_rate_per_s: must be between 0.1 and 100000" },
    { "offline.max_queue_mb", "1.5", "offline.max_queue_mb: must be an integer" },
    { "offline.close_chargers", "1", "offline.close_chargers: must be true or false" },
    /* aggregate */
    { "aggregate", "1", "aggregate: must be an object" },
    { "aggregate.vendor", "\"\"", "aggregate.vendor: must be 1 to 20 characters" },
    { "aggregate.model", "\"012345678901234567890\"", "aggregate.model: must be 1 to 20 characters" },
    { "aggregate.meter_interval_s", "-1", "aggregate.meter_interval_s: must be between 0 and 86400" },
    { "aggregate.allow_hard_reset", "\"yes\"", "aggregate.allow_hard_reset: must be true or false" },
    { "chargers[0].site_connectors", "3", "chargers[0].site_connectors: must be an array" },
    { "chargers[0].site_connectors", "[0]", "chargers[0].site_connectors[0]: must be an integer from 1 to 999" },
    { "chargers[0].site_connectors", "[1.5]", "chargers[0].site_connectors[0]: must be an integer from 1 to 999" },
    { "chargers[0].site_connectors", "[1000]", "chargers[0].site_connectors[0]: must be an integer from 1 to 999" },
    { "chargers[0].site_connectors", "[1]",
      "chargers[0].site_connectors: only with upstream.mode \"aggregate\"" },
    { "charger_defaults.site_connectors", "[1]",
      "charger_defaults.site_connectors: only allowed in chargers[] entries" },
    { "offline.local_list", "{}", "offline.local_list: must be an array" },
    { "offline.local_list", "[\"TAG1\"]", "offline.local_list[0]: must be an object" },
    { "offline.local_list", "[{\"status\":\"Accepted\"}]", "offline.local_list[0].id_tag: is required" },
    { "offline.local_list", "[{\"id_tag\":\"\"}]",
      "offline.local_list[0].id_tag: must be 1 to 36 characters" },
    { "offline.local_list", "[{\"id_tag\":\"0123456789012345678901234567890123456\"}]",
      "offline.local_list[0].id_tag: must be 1 to 36 characters" },
    { "offline.local_list", "[{\"id_tag\":\"A\",\"status\":\"accepted\"}]",
      "offline.local_list[0].status: must be one of \"Accepted\", \"Blocked\", \"Expired\", \"Invalid\"" },
    { "offline.local_list", "[{\"id_tag\":\"A\"},{\"id_tag\":\"B\",\"expiry\":\"2027-13-01T00:00:00Z\"}]",
      "offline.local_list[1].expiry: must be an RFC 3339 time like \"2027-12-31T23:59:59Z\"" },
    { "offline.local_list", "[{\"id_tag\":\"A\",\"expiry\":\"2027-12-01 00:00:00\"}]",
      "offline.local_list[0].expiry: must be an RFC 3339 time like \"2027-12-31T23:59:59Z\"" },
    { "offline.local_list", "[{\"id_tag\":\"A\",\"expiry\":\"2027-12-01T00:00:00+0530\"}]",
      "offline.local_list[0].expiry: must be an RFC 3339 time like \"2027-12-31T23:59:59Z\"" },
    { "offline.local_list", "[{\"id_tag\":\"A\",\"expiry\":1700000000}]",
      "offline.local_list[0].expiry: must be an RFC 3339 time like \"2027-12-31T23:59:59Z\"" },
    { "offline.local_list", "[{\"id_tag\":\"A\",\"parent\":\"B\"}]",
      "offline.local_list[0].parent: unknown key" },
    { "offline.local_list", "[{\"id_tag\":\"B\"},{\"id_tag\":\"A\"},{\"id_tag\":\"B\"}]",
      "offline.local_list: duplicate id_tag \"B\"" },

    /* limits */
    { "limits", "0", "limits: must be an object" },
    { "limits.max_frame", "1", "limits.max_frame: unknown key" },
    { "limits.max_frame_bytes", "1023", "limits.max_frame_bytes: must be between 1024 and 16777216" },
    { "limits.max_frame_bytes", "16777217",
      "limits.max_frame_bytes: must be between 1024 and 16777216" },
    { "limits.max_frame_bytes", "\"64k\"", "limits.max_frame_bytes: must be an integer" },
    { "limits.max_pending_calls", "0", "limits.max_pending_calls: must be between 1 and 10000" },
    { "limits.max_pending_calls", "10001", "limits.max_pending_calls: must be between 1 and 10000" },
    { "limits.max_pending_calls", "1.5", "limits.max_pending_calls: must be an integer" },
    { "limits.hold_frames", "0", "limits.hold_frames: must be between 1 and 100000" },
    { "limits.hold_frames", "100001", "limits.hold_frames: must be between 1 and 100000" },
    { "limits.hold_frames", "[1]", "limits.hold_frames: must be an integer" },
};

TEST(base_is_valid)
{
    struct config cfg;
    ASSERT(parses(BASE, &cfg));
    config_free(&cfg);
}

TEST(bad_values)
{
    int failed = 0;
    for (size_t i = 0; i < sizeof(bad_values) / sizeof(bad_values[0]); i++) {
        const struct bad *b = &bad_values[i];
        char *json = with(BASE, b->path, b->value);
        if (!fails_with(json, b->error)) {
            fprintf(stderr, "  row %zu: %s = %s\n", i, b->path, b->value ? b->value : "(removed)");
            failed++;
        }
        free(json);
    }
    ASSERT_EQ(failed, 0);
}

/* The values at the edges of every range are accepted. */
TEST(bounds_inclusive)
{
    static const struct { const char *path, *value; } ok[] = {
        { "site.grid_limit_kw", "100000" }, { "site.grid_limit_kw", "50" },
        { "site.phase_limit_a", "100000" }, { "site.margin_kw", "0" },
        { "site.margin_kw", "99.99" },      { "site.voltage_v", "100" },
        { "site.voltage_v", "480" },        { "listen.port", "1" },
        { "listen.port", "65535" },         { "listen.port", "9.0e3" },
        { "listen.ping_interval_s", "0" },  { "listen.ping_interval_s", "3600" },
        { "upstream.call_timeout_s", "1" }, { "upstream.call_timeout_s", "600" },
        { "upstream.ping_interval_s", "0" }, { "upstream.reconnect_min_s", "0.1" },
        { "upstream.reconnect_max_s", "3600" }, { "chargers[0].connectors", "16" },
        { "chargers[0].min_current_a", "0" }, { "chargers[0].max_current_a", "630" },
        { "chargers[0].priority", "-100" }, { "chargers[0].priority", "100" },
        { "chargers[0].stack_level", "100" }, { "chargers[0].upstream_password", PW64 },
        { "balancer.increase_interval_s", "0" }, { "balancer.deadband_a", "32" },
        { "balancer.headroom_a", "0" },     { "balancer.profile_id", "2147483647" },
        { "balancer.stack_level", "100" },  { "limits.max_frame_bytes", "1024" },
        { "limits.max_frame_bytes", "16777216" }, { "limits.max_pending_calls", "10000" },
        { "limits.hold_frames", "100000" }, { "site.id", "\"a-Z_0.9\"" },
        { "chargers[0].id", "\"urn:cp:0001\"" }, { "listen.address", "\"::\"" },
        { "listen.address", "\"fe80::1\"" }, { "listen.address", "\"gw-1.site.local\"" },
        { "upstream.url", "\"wss://[2001:db8::1]:8443/ocpp/v16\"" },
        { "upstream.url", "\"ws://csms\"" }, { "upstream.url", "\"wss://csms.example.com:443\"" },
        { "site.schedule[0].from", "\"00:00\"" }, { "site.schedule[0].to", "\"23:59\"" },
    };
    int failed = 0;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        char *json = with(BASE, ok[i].path, ok[i].value);
        struct config cfg;
        if (parses(json, &cfg))
            config_free(&cfg);
        else
            failed++;
        free(json);
    }
    ASSERT_EQ(failed, 0);
}

TEST(defaults)
{
    struct config cfg;
    ASSERT(parses("{\"site\":{\"id\":\"S\",\"grid_limit_kw\":50},"
                  "\"upstream\":{\"url\":\"wss://csms.example.com/ocpp\"}}",
                  &cfg));
    ASSERT_STR_EQ(cfg.site.id, "S");
    ASSERT_STR_EQ(cfg.site.timezone, "UTC");
    ASSERT_DBL_NEAR(cfg.site.grid_limit_kw, 50, 0);
    ASSERT(isnan(cfg.site.phase_limit_a));
    ASSERT_DBL_NEAR(cfg.site.margin_kw, 0, 0);
    ASSERT_DBL_NEAR(cfg.site.voltage_v, 230, 0);
    ASSERT_NULL(cfg.site.schedule);
    ASSERT_EQ(cfg.site.n_schedule, 0);
    ASSERT_STR_EQ(cfg.listen.address, "0.0.0.0");
    ASSERT_EQ(cfg.listen.port, 9000);
    ASSERT_STR_EQ(cfg.listen.path, "/ocpp");
    ASSERT_EQ(cfg.listen.ping_interval_s, 30);
    ASSERT_EQ(cfg.listen.allow_unknown_chargers, false);
    ASSERT_STR_EQ(cfg.upstream.url, "wss://csms.example.com/ocpp");
    ASSERT_EQ(cfg.upstream.mode, CONFIG_MODE_PASSTHROUGH);
    ASSERT_NULL(cfg.upstream.ca_file);
    ASSERT_EQ(cfg.upstream.tls_verify, true);
    ASSERT_EQ(cfg.upstream.call_timeout_s, 30);
    ASSERT_EQ(cfg.upstream.ping_interval_s, 30);
    ASSERT_DBL_NEAR(cfg.upstream.reconnect_min_s, 1, 0);
    ASSERT_DBL_NEAR(cfg.upstream.reconnect_max_s, 60, 0);
    const struct config_charger *d = &cfg.charger_defaults;
    ASSERT_STR_EQ(d->id, "");
    ASSERT_NULL(d->password_hash);
    ASSERT_NULL(d->upstream_password);
    ASSERT_EQ(d->connectors, 1);
    ASSERT_EQ(d->phases, 3);
    ASSERT_EQ(d->phase, CONFIG_PHASE_NONE);
    ASSERT_DBL_NEAR(d->min_current_a, 6, 0);
    ASSERT_DBL_NEAR(d->max_current_a, 32, 0);
    ASSERT_EQ(d->priority, 0);
    ASSERT_EQ(d->charging_rate_unit, CONFIG_UNIT_AUTO);
    ASSERT_EQ(d->profile, CONFIG_PROFILE_AUTO);
    ASSERT_EQ(d->stack_level, -1);
    ASSERT_EQ(d->smart_charging, CONFIG_AUTO);
    ASSERT_NULL(cfg.chargers);
    ASSERT_EQ(cfg.n_chargers, 0);
    ASSERT_EQ(cfg.balancer.increase_interval_s, 30);
    ASSERT_DBL_NEAR(cfg.balancer.deadband_a, 1, 0);
    ASSERT_DBL_NEAR(cfg.balancer.headroom_a, 2, 0);
    ASSERT_EQ(cfg.balancer.profile_id, 1000);
    ASSERT_EQ(cfg.balancer.stack_level, -1);
    ASSERT_EQ(cfg.offline.unknown_tags, CONFIG_UNKNOWN_REJECT);
    ASSERT_EQ(cfg.offline.heartbeat_interval_s, 300);
    ASSERT_EQ(cfg.offline.hold_s, 10);
    ASSERT_EQ(cfg.offline.auth_cache_s, 604800);
    ASSERT_EQ(cfg.offline.replay_interval_ms, 0);
    ASSERT_EQ(cfg.offline.max_queue_mb, 512);
    ASSERT(!cfg.offline.close_chargers);
    ASSERT_EQ(cfg.limits.max_frame_bytes, 65536);
    ASSERT_EQ(cfg.limits.max_pending_calls, 64);
    ASSERT_EQ(cfg.limits.hold_frames, 1000);
    ASSERT_STR_EQ(cfg.state_dir, "/var/lib/sitegate");
    ASSERT_EQ(cfg.log_level, LOG_LVL_INFO);
    ASSERT_NULL(config_find_charger(&cfg, "CP01"));
    config_free(&cfg);
    ASSERT_EQ(memcmp(&cfg, &zero_config, sizeof(cfg)), 0);
    config_free(&cfg); /* twice is harmless */
    config_free(NULL);
}

TEST(every_value_set)
{
    struct config cfg;
    ASSERT(parses(
        "{\"site\":{\"id\":\"DEPOT-01\",\"timezone\":\"UTC\",\"grid_limit_kw\":200.5,"
        "\"phase_limit_a\":300,\"margin_kw\":5,\"voltage_v\":240},"
        "\"listen\":{\"address\":\"::1\",\"port\":8080,\"path\":\"/ocpp/\","
        "\"ping_interval_s\":0,\"allow_unknown_chargers\":true},"
        "\"upstream\":{\"url\":\"wss://csms/ocpp\",\"mode\":\"aggregate\",\"tls_verify\":false,"
        "\"call_timeout_s\":10,\"ping_interval_s\":15,\"reconnect_min_s\":0.5,"
        "\"reconnect_max_s\":0.5},"
        "\"chargers\":[{\"id\":\"A\",\"charging_rate_unit\":\"W\",\"profile\":\"tx_default\","
        "\"smart_charging\":\"off\",\"stack_level\":7,\"priority\":-3,\"connectors\":2}],"
        "\"balancer\":{\"increase_interval_s\":60,\"deadband_a\":0.5,\"headroom_a\":3,"
        "\"profile_id\":77,\"stack_level\":5},"
        "\"limits\":{\"max_frame_bytes\":2048,\"max_pending_calls\":8,\"hold_frames\":9},"
        "\"state_dir\":\"./state\",\"log_level\":\"debug\"}",
        &cfg));
    ASSERT_DBL_NEAR(cfg.site.grid_limit_kw, 200.5, 0);
    ASSERT_DBL_NEAR(cfg.site.phase_limit_a, 300, 0);
    ASSERT_DBL_NEAR(cfg.site.voltage_v, 240, 0);
    ASSERT_STR_EQ(cfg.listen.address, "::1");
    ASSERT_EQ(cfg.listen.port, 8080);
    ASSERT_STR_EQ(cfg.listen.path, "/ocpp"); /* one trailing slash dropped */
    ASSERT_EQ(cfg.listen.ping_interval_s, 0);
    ASSERT_EQ(cfg.listen.allow_unknown_chargers, true);
    ASSERT_EQ(cfg.upstream.mode, CONFIG_MODE_AGGREGATE);
    ASSERT_EQ(cfg.upstream.tls_verify, false);
    ASSERT_EQ(cfg.upstream.call_timeout_s, 10);
    ASSERT_EQ(cfg.upstream.ping_interval_s, 15);
    ASSERT_DBL_NEAR(cfg.upstream.reconnect_max_s, 0.5, 0);
    ASSERT_EQ(cfg.n_chargers, 1);
    ASSERT_EQ(cfg.chargers[0].charging_rate_unit, CONFIG_UNIT_W);
    ASSERT_EQ(cfg.chargers[0].profile, CONFIG_PROFILE_TX_DEFAULT);
    ASSERT_EQ(cfg.chargers[0].smart_charging, CONFIG_OFF);
    ASSERT_EQ(cfg.chargers[0].stack_level, 7);
    ASSERT_EQ(cfg.chargers[0].priority, -3);
    ASSERT_EQ(cfg.chargers[0].connectors, 2);
    ASSERT_EQ(cfg.balancer.increase_interval_s, 60);
    ASSERT_DBL_NEAR(cfg.balancer.deadband_a, 0.5, 0);
    ASSERT_DBL_NEAR(cfg.balancer.headroom_a, 3, 0);
    ASSERT_EQ(cfg.balancer.profile_id, 77);
    ASSERT_EQ(cfg.balancer.stack_level, 5);
    ASSERT_EQ(cfg.limits.max_frame_bytes, 2048);
    ASSERT_EQ(cfg.limits.max_pending_calls, 8);
    ASSERT_EQ(cfg.limits.hold_frames, 9);
    ASSERT_STR_EQ(cfg.state_dir, "./state");
    ASSERT_EQ(cfg.log_level, LOG_LVL_DEBUG);
    config_free(&cfg);
}

TEST(listen_path_root)
{
    struct config cfg;
    char *json = with(BASE, "listen.path", "\"/\"");
    ASSERT(parses(json, &cfg));
    free(json);
    ASSERT_STR_EQ(cfg.listen.path, ""); /* chargers connect to /<id> */
    config_free(&cfg);
}

TEST(charger_defaults_inherited)
{
    struct config cfg;
    ASSERT(parses("{\"site\":{\"id\":\"S\",\"grid_limit_kw\":50},"
                  "\"upstream\":{\"url\":\"ws://csms\"},"
                  "\"chargers\":[{\"id\":\"A\"},{\"id\":\"B\",\"phases\":3},"
                  "{\"id\":\"C\",\"max_current_a\":20,\"phase\":\"L1\"}],"
                  /* after chargers in the file: still applied first */
                  "\"charger_defaults\":{\"phases\":1,\"phase\":\"L3\",\"max_current_a\":16,"
                  "\"priority\":5,\"min_current_a\":8,\"smart_charging\":\"on\"}}",
                  &cfg));
    ASSERT_EQ(cfg.n_chargers, 3);
    const struct config_charger *a = &cfg.chargers[0], *b = &cfg.chargers[1], *c = &cfg.chargers[2];
    ASSERT_STR_EQ(a->id, "A");
    ASSERT_EQ(a->phases, 1);
    ASSERT_EQ(a->phase, CONFIG_PHASE_L3);
    ASSERT_DBL_NEAR(a->max_current_a, 16, 0);
    ASSERT_DBL_NEAR(a->min_current_a, 8, 0);
    ASSERT_EQ(a->priority, 5);
    ASSERT_EQ(a->smart_charging, CONFIG_ON);
    /* A three-phase override drops the inherited phase instead of failing. */
    ASSERT_EQ(b->phases, 3);
    ASSERT_EQ(b->phase, CONFIG_PHASE_NONE);
    ASSERT_DBL_NEAR(b->max_current_a, 16, 0);
    ASSERT_EQ(c->phase, CONFIG_PHASE_L1);
    ASSERT_DBL_NEAR(c->max_current_a, 20, 0);
    ASSERT_EQ(c->priority, 5);
    config_free(&cfg);

    /* A single-phase charger that names no phase is on L1. */
    char *json = with(BASE, "chargers[0].phases", "1");
    ASSERT(parses(json, &cfg));
    free(json);
    ASSERT_EQ(cfg.chargers[0].phase, CONFIG_PHASE_L1);
    config_free(&cfg);

    /* An inherited minimum above a charger's own maximum is that charger's error. */
    json = with(BASE, "charger_defaults.min_current_a", "10");
    char *json2 = with(json, "chargers[0].max_current_a", "8");
    ASSERT(fails_with(json2, "chargers[0].max_current_a: must be at least min_current_a (10)"));
    free(json);
    free(json2);
}

TEST(duplicate_keys)
{
    ASSERT(fails_with("{\"site\":{\"id\":\"S\",\"grid_limit_kw\":50},"
                      "\"upstream\":{\"url\":\"ws://csms\"},"
                      "\"site\":{\"id\":\"S\",\"grid_limit_kw\":50}}",
                      "site: duplicate key"));
    ASSERT(fails_with("{\"site\":{\"id\":\"S\",\"grid_limit_kw\":50,\"grid_limit_kw\":500},"
                      "\"upstream\":{\"url\":\"ws://csms\"}}",
                      "site.grid_limit_kw: duplicate key"));
    ASSERT(fails_with("{\"site\":{\"id\":\"S\",\"grid_limit_kw\":50},"
                      "\"upstream\":{\"url\":\"ws://csms\"},"
                      "\"chargers\":[{\"id\":\"A\"},{\"id\":\"B\",\"max_current_a\":16,"
                      "\"max_current_a\":63}]}",
                      "chargers[1].max_current_a: duplicate key"));
    ASSERT(fails_with("{\"site\":{\"id\":\"S\",\"grid_limit_kw\":50,\"schedule\":[{\"from\":"
                      "\"01:00\",\"to\":\"02:00\",\"from\":\"03:00\",\"grid_limit_kw\":1}]},"
                      "\"upstream\":{\"url\":\"ws://csms\"}}",
                      "site.schedule[0].from: duplicate key"));
    ASSERT(fails_with("{\"site\":{\"id\":\"S\",\"grid_limit_kw\":50},"
                      "\"upstream\":{\"url\":\"ws://csms\"},\"log_level\":\"info\","
                      "\"log_level\":\"debug\"}",
                      "log_level: duplicate key"));
}

TEST(unknown_key_shown_safely)
{
    /* A control character and a very long name do not reach the log raw. */
    char *json = with(BASE, "listen.a\tb", "1");
    ASSERT(fails_with(json, "listen.a?b: unknown key"));
    free(json);
    char key[300], want[400];
    memset(key, 'k', 200);
    key[200] = '\0';
    json = with(BASE, key, "1");
    snprintf(want, sizeof(want), "%.64s...: unknown key", key);
    ASSERT(fails_with(json, want));
    free(json);
    json = with(BASE, "listen.", "1");
    ASSERT(fails_with(json, "listen.\"\": unknown key"));
    free(json);
}

static char *chargers_json(const char *const *ids, size_t n)
{
    size_t cap = 256 + n * 80;
    char *s = malloc(cap);
    size_t len = (size_t)snprintf(s, cap, "{\"site\":{\"id\":\"S\",\"grid_limit_kw\":50},"
                                          "\"upstream\":{\"url\":\"ws://csms\"},\"chargers\":[");
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(s + len, cap - len, "%s{\"id\":\"%s\"}", i ? "," : "", ids[i]);
    snprintf(s + len, cap - len, "]}");
    return s;
}

TEST(duplicate_charger_ids)
{
    const char *const ids1[] = { "CP01", "CP02", "CP03", "CP01" };
    char *json = chargers_json(ids1, 4);
    ASSERT(fails_with(json, "chargers[3].id: duplicate \"CP01\""));
    free(json);
    /* The first repeat in file order, whatever the sort does. */
    const char *const ids2[] = { "Z", "A", "Z", "A" };
    json = chargers_json(ids2, 4);
    ASSERT(fails_with(json, "chargers[2].id: duplicate \"Z\""));
    free(json);
    /* Ids compare exactly, as the URL path does. */
    const char *const ids3[] = { "cp01", "CP01" };
    json = chargers_json(ids3, 2);
    struct config cfg;
    ASSERT(parses(json, &cfg));
    free(json);
    ASSERT_NOT_NULL(config_find_charger(&cfg, "cp01"));
    ASSERT(config_find_charger(&cfg, "cp01") != config_find_charger(&cfg, "CP01"));
    config_free(&cfg);
}

TEST(many_chargers)
{
    enum { N = 10000 };
    static char idbuf[N + 1][8];
    static const char *ids[N + 1];
    for (int i = 0; i <= N; i++) {
        /* Not in sorted order in the file. */
        snprintf(idbuf[i], sizeof(idbuf[i]), "CP%05d", (i * 7919) % (N + 1));
        ids[i] = idbuf[i];
    }
    char *json = chargers_json(ids, N + 1);
    ASSERT(fails_with(json, "chargers: at most 10000 chargers"));
    free(json);

    json = chargers_json(ids, N);
    struct config cfg;
    ASSERT(parses(json, &cfg));
    free(json);
    ASSERT_EQ(cfg.n_chargers, N);
    ASSERT_STR_EQ(cfg.chargers[0].id, ids[0]); /* file order kept */
    ASSERT_STR_EQ(cfg.chargers[N - 1].id, ids[N - 1]);
    for (int i = 0; i < N; i++) {
        const struct config_charger *ch = config_find_charger(&cfg, ids[i]);
        if (ch != &cfg.chargers[i])
            TEST__FAIL("find %s: got %p, want chargers[%d]", ids[i], (const void *)ch, i);
    }
    ASSERT_NULL(config_find_charger(&cfg, ids[N]));
    ASSERT_NULL(config_find_charger(&cfg, ""));
    ASSERT_NULL(config_find_charger(&cfg, "CP"));
    ASSERT_NULL(config_find_charger(&cfg, NULL));
    config_free(&cfg);
}

TEST(find_without_index)
{
    /* Other components' tests build a config by hand. */
    struct config_charger chs[2] = { { .id = "B" }, { .id = "A" } };
    struct config cfg = { .chargers = chs, .n_chargers = 2 };
    ASSERT(config_find_charger(&cfg, "A") == &chs[1]);
    ASSERT(config_find_charger(&cfg, "B") == &chs[0]);
    ASSERT_NULL(config_find_charger(&cfg, "C"));
}

/* --- the schedule -------------------------------------------------------- */

static char *schedule_json(const char *entries)
{
    char *s = malloc(strlen(entries) + 256);
    sprintf(s, "{\"site\":{\"id\":\"S\",\"grid_limit_kw\":100,\"phase_limit_a\":160,"
               "\"schedule\":[%s]},\"upstream\":{\"url\":\"ws://csms\"}}",
            entries);
    return s;
}

#define W(from, to) "{\"from\":\"" from "\",\"to\":\"" to "\",\"grid_limit_kw\":50}"

TEST(schedule_parsed)
{
    struct config cfg;
    char *json = schedule_json(W("18:00", "22:00") ","
                         "{\"from\":\"22:00\",\"to\":\"06:30\",\"phase_limit_a\":80},"
                         "{\"from\":\"07:00\",\"to\":\"08:00\",\"grid_limit_kw\":90,"
                         "\"phase_limit_a\":160}");
    ASSERT(parses(json, &cfg));
    free(json);
    ASSERT_EQ(cfg.site.n_schedule, 3);
    ASSERT_EQ(cfg.site.schedule[0].from_min, 18 * 60);
    ASSERT_EQ(cfg.site.schedule[0].to_min, 22 * 60);
    ASSERT_DBL_NEAR(cfg.site.schedule[0].grid_limit_kw, 50, 0);
    ASSERT(isnan(cfg.site.schedule[0].phase_limit_a));
    ASSERT_EQ(cfg.site.schedule[1].from_min, 22 * 60);
    ASSERT_EQ(cfg.site.schedule[1].to_min, 6 * 60 + 30); /* wraps past midnight */
    ASSERT(isnan(cfg.site.schedule[1].grid_limit_kw));
    ASSERT_DBL_NEAR(cfg.site.schedule[1].phase_limit_a, 80, 0);
    ASSERT_EQ(cfg.site.schedule[2].from_min, 7 * 60);
    ASSERT_DBL_NEAR(cfg.site.schedule[2].phase_limit_a, 160, 0); /* equal to the site's: fine */
    config_free(&cfg);

    /* Up to midnight, and from midnight. */
    json = schedule_json(W("23:00", "00:00") "," W("00:00", "01:00"));
    ASSERT(parses(json, &cfg));
    free(json);
    ASSERT_EQ(cfg.site.schedule[0].to_min, 0);
    ASSERT_EQ(cfg.site.schedule[1].from_min, 0);
    config_free(&cfg);

    /* An empty schedule is no schedule. */
    json = schedule_json("");
    ASSERT(parses(json, &cfg));
    free(json);
    ASSERT_EQ(cfg.site.n_schedule, 0);
    ASSERT_NULL(cfg.site.schedule);
    config_free(&cfg);
}

TEST(aggregate_site_connectors)
{
    struct config cfg;
    char *json = with(BASE, "upstream.mode", "\"aggregate\"");
    char *two = with(json, "chargers",
                     "[{\"id\":\"CP01\",\"connectors\":2,\"site_connectors\":[5,2]},"
                     "{\"id\":\"CP02\"}]");
    ASSERT(parses(two, &cfg));
    ASSERT_EQ(cfg.chargers[0].site_connectors[0], 5);
    ASSERT_EQ(cfg.chargers[0].site_connectors[1], 2);
    ASSERT_EQ(cfg.chargers[1].site_connectors[0], 0); /* the next free number, at run time */
    ASSERT_STR_EQ(cfg.aggregate.vendor, "sitegate");
    ASSERT_STR_EQ(cfg.aggregate.model, "sitegate-site");
    ASSERT_EQ(cfg.aggregate.meter_interval_s, 60);
    ASSERT(!cfg.aggregate.allow_hard_reset);
    config_free(&cfg);
    free(two);

    two = with(json, "chargers", "[{\"id\":\"CP01\",\"site_connectors\":[1,2]}]");
    ASSERT(fails_with(two, "chargers[0].site_connectors: more entries than connectors (1)"));
    free(two);
    two = with(json, "chargers", "[{\"id\":\"CP01\",\"site_connectors\":[3]},"
                                 "{\"id\":\"CP02\",\"site_connectors\":[3]}]");
    ASSERT(fails_with(two, "chargers[1].site_connectors[0]: site connector 3 is taken"));
    free(two);
    two = with(json, "chargers", "[{\"id\":\"S1\"}]");
    ASSERT(fails_with(two, "chargers[0].id: \"S1\" is the site's own id (aggregate mode)"));
    free(two);
    free(json);
}

TEST(local_list)
{
    struct config cfg;
    char *json = with(BASE, "offline.local_list",
                      "[{\"id_tag\":\"FLEET-7\"},"
                      "{\"id_tag\":\"STOLEN\",\"status\":\"Blocked\"},"
                      "{\"id_tag\":\"VISITOR\",\"expiry\":\"2027-01-01T05:30:00.25+05:30\"}]");
    ASSERT(parses(json, &cfg));
    free(json);
    ASSERT_EQ(cfg.offline.n_local_list, 3);
    const struct config_local_tag *t = config_find_local_tag(&cfg, "FLEET-7");
    ASSERT_NOT_NULL(t);
    ASSERT_EQ(t->status, CONFIG_AUTH_ACCEPTED);
    ASSERT_EQ(t->expiry, 0);
    t = config_find_local_tag(&cfg, "STOLEN");
    ASSERT_NOT_NULL(t);
    ASSERT_EQ(t->status, CONFIG_AUTH_BLOCKED);
    t = config_find_local_tag(&cfg, "VISITOR");
    ASSERT_NOT_NULL(t);
    ASSERT_EQ(t->expiry, 1798761600); /* 2027-01-01T00:00:00Z */
    ASSERT_NULL(config_find_local_tag(&cfg, "FLEET-"));
    ASSERT_NULL(config_find_local_tag(&cfg, "fleet-7")); /* tags are case-sensitive */
    ASSERT_NULL(config_find_local_tag(&cfg, "0123456789012345678901234567890123456789"));
    config_free(&cfg);

    /* None by default, and an empty list is none. */
    ASSERT(parses(BASE, &cfg));
    ASSERT_EQ(cfg.offline.n_local_list, 0);
    ASSERT_NULL(config_find_local_tag(&cfg, "FLEET-7"));
    config_free(&cfg);
    json = with(BASE, "offline.local_list", "[]");
    ASSERT(parses(json, &cfg));
    free(json);
    ASSERT_NULL(cfg.offline.local_list);
    config_free(&cfg);
}

TEST(schedule_overlap)
{
    static const struct { const char *entries, *error; } cases[] = {
        { W("18:00", "22:00") "," W("21:59", "23:00"), "site.schedule[1]: overlaps site.schedule[0]" },
        { W("18:00", "22:00") "," W("19:00", "20:00"), "site.schedule[1]: overlaps site.schedule[0]" },
        { W("18:00", "22:00") "," W("17:00", "18:01"), "site.schedule[1]: overlaps site.schedule[0]" },
        { W("22:00", "06:00") "," W("05:00", "07:00"), "site.schedule[1]: overlaps site.schedule[0]" },
        { W("22:00", "06:00") "," W("23:00", "01:00"), "site.schedule[1]: overlaps site.schedule[0]" },
        { W("22:00", "06:00") "," W("21:00", "05:00"), "site.schedule[1]: overlaps site.schedule[0]" },
        { W("01:00", "02:00") "," W("03:00", "04:00") "," W("23:30", "01:30"),
          "site.schedule[2]: overlaps site.schedule[0]" },
        { W("10:00", "11:00") "," W("10:00", "11:00"), "site.schedule[1]: overlaps site.schedule[0]" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *json = schedule_json(cases[i].entries);
        bool ok = fails_with(json, cases[i].error);
        free(json);
        if (!ok)
            TEST__FAIL("case %zu", i);
    }
    /* Touching windows do not overlap: [from, to) */
    static const char *const fine[] = {
        W("18:00", "22:00") "," W("22:00", "06:00") "," W("06:00", "18:00"),
        W("22:00", "06:00") "," W("06:00", "22:00"),
        W("23:00", "00:00") "," W("00:00", "23:00"),
    };
    for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++) {
        char *json = schedule_json(fine[i]);
        struct config cfg;
        bool ok = parses(json, &cfg);
        free(json);
        if (!ok)
            TEST__FAIL("fine case %zu", i);
        config_free(&cfg);
    }
}

TEST(schedule_caps_and_count)
{
    char *json = schedule_json("{\"from\":\"18:00\",\"to\":\"22:00\",\"phase_limit_a\":160.5}");
    ASSERT(fails_with(json, "site.schedule[0].phase_limit_a: 160.5 is above site.phase_limit_a (160)"));
    free(json);

    /* Without a site phase cap, the schedule may set one. */
    struct config cfg;
    json = with(BASE, "site.schedule[0].phase_limit_a", "100");
    ASSERT(parses(json, &cfg));
    free(json);
    config_free(&cfg);

    /* 48 half-hour windows fill the day exactly; a 49th is one too many. */
    char entries[48 * 80 + 100] = "";
    size_t len = 0;
    for (int i = 0; i < 48; i++) {
        int a = i * 30, b = (i + 1) * 30 % 1440;
        len += (size_t)snprintf(entries + len, sizeof(entries) - len,
                                "%s{\"from\":\"%02d:%02d\",\"to\":\"%02d:%02d\","
                                "\"grid_limit_kw\":%d}",
                                i ? "," : "", a / 60, a % 60, b / 60, b % 60, 10 + i);
    }
    json = schedule_json(entries);
    ASSERT(parses(json, &cfg));
    free(json);
    ASSERT_EQ(cfg.site.n_schedule, 48);
    ASSERT_EQ(cfg.site.schedule[47].from_min, 23 * 60 + 30);
    ASSERT_EQ(cfg.site.schedule[47].to_min, 0);
    config_free(&cfg);
    snprintf(entries + len, sizeof(entries) - len, ",{\"from\":\"00:00\",\"to\":\"00:01\","
                                                   "\"grid_limit_kw\":1}");
    json = schedule_json(entries);
    ASSERT(fails_with(json, "site.schedule: at most 48 entries"));
    free(json);
}

/* --- secrets ------------------------------------------------------------- */

static char *charger_json(const char *fields)
{
    char *s = malloc(strlen(fields) + 256);
    sprintf(s, "{\"site\":{\"id\":\"S\",\"grid_limit_kw\":100},"
               "\"upstream\":{\"url\":\"ws://csms\"},\"chargers\":[{\"id\":\"CP01\"%s}]}",
            fields);
    return s;
}

TEST(password_hash_kept)
{
    char hash[PASSWORD_HASH_MAX], fields[256];
    ASSERT_EQ(password_hash_new("charger-secret-0001", hash, sizeof(hash)), 0);
    snprintf(fields, sizeof(fields), ",\"password_hash\":\"%s\"", hash);
    char *json = charger_json(fields);
    struct config cfg;
    ASSERT(parses(json, &cfg));
    free(json);
    ASSERT_STR_EQ(cfg.chargers[0].password_hash, hash);
    ASSERT_NULL(cfg.chargers[0].upstream_password);
    config_free(&cfg);
}

TEST(password_file)
{
    struct config cfg;
    char fields[512];
    const char *path = write_file("pw", "charger-secret-0001\n", 20);
    snprintf(fields, sizeof(fields), ",\"password_file\":\"%s\"", path);
    char *json = charger_json(fields);
    ASSERT(parses(json, &cfg));
    free(json);
    const char *h = cfg.chargers[0].password_hash;
    ASSERT(password_hash_valid(h));
    ASSERT(password_verify("charger-secret-0001", 19, h));
    ASSERT(!password_verify("charger-secret-0001\n", 20, h)); /* newline stripped */
    ASSERT_NULL(strstr(h, "charger-secret"));                /* hashed, not kept */
    config_free(&cfg);

    /* CRLF from a Windows editor; no newline at all; only one newline stripped. */
    static const struct { const char *content, *password; } variants[] = {
        { "pw-crlf\r\n", "pw-crlf" }, { "pw-none", "pw-none" }, { "pw-two\n\n", "pw-two\n" },
        { " spaced pw ", " spaced pw " },
    };
    for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
        path = write_file("pwv", variants[i].content, strlen(variants[i].content));
        snprintf(fields, sizeof(fields), ",\"password_file\":\"%s\"", path);
        json = charger_json(fields);
        ASSERT(parses(json, &cfg));
        free(json);
        bool ok = password_verify(variants[i].password, strlen(variants[i].password),
                                  cfg.chargers[0].password_hash);
        config_free(&cfg);
        if (!ok)
            TEST__FAIL("variant %zu", i);
    }

    char want[512];
    path = write_file("empty", "\n", 1);
    snprintf(fields, sizeof(fields), ",\"password_file\":\"%s\"", path);
    snprintf(want, sizeof(want), "chargers[0].password_file: %s: holds no password", path);
    json = charger_json(fields);
    ASSERT(fails_with(json, want));
    free(json);

    path = write_file("nul", "ab\0cd", 5);
    snprintf(fields, sizeof(fields), ",\"password_file\":\"%s\"", path);
    snprintf(want, sizeof(want), "chargers[0].password_file: %s: contains a NUL byte", path);
    json = charger_json(fields);
    ASSERT(fails_with(json, want));
    free(json);

    char big[2000];
    memset(big, 'x', sizeof(big));
    path = write_file("big", big, sizeof(big));
    snprintf(fields, sizeof(fields), ",\"password_file\":\"%s\"", path);
    snprintf(want, sizeof(want), "chargers[0].password_file: %s: larger than 1024 bytes", path);
    json = charger_json(fields);
    ASSERT(fails_with(json, want));
    free(json);

    snprintf(fields, sizeof(fields), ",\"password_file\":\"%s/missing\"", tmpdir);
    snprintf(want, sizeof(want),
             "chargers[0].password_file: cannot read %s/missing: No such file or directory", tmpdir);
    json = charger_json(fields);
    ASSERT(fails_with(json, want));
    free(json);

    /* A FIFO would block a plain open(): it must fail at once instead. */
    char fifo[128];
    snprintf(fifo, sizeof(fifo), "%s/fifo", tmpdir);
    ASSERT_EQ(mkfifo(fifo, 0600), 0);
    snprintf(fields, sizeof(fields), ",\"password_file\":\"%s\"", fifo);
    snprintf(want, sizeof(want), "chargers[0].password_file: cannot read %s: not a regular file",
             fifo);
    json = charger_json(fields);
    ASSERT(fails_with(json, want));
    free(json);
    unlink(fifo);
}

TEST(password_not_both)
{
    char hash[PASSWORD_HASH_MAX], fields[512];
    ASSERT_EQ(password_hash_new("x-secret", hash, sizeof(hash)), 0);
    const char *path = write_file("pw2", "x-secret\n", 9);
    /* In either order in the file. */
    snprintf(fields, sizeof(fields), ",\"password_hash\":\"%s\",\"password_file\":\"%s\"", hash,
             path);
    char *json = charger_json(fields);
    ASSERT(fails_with(json, "chargers[0].password_file: cannot be used together with password_hash"));
    free(json);
    snprintf(fields, sizeof(fields), ",\"password_file\":\"%s\",\"password_hash\":\"%s\"", path,
             hash);
    json = charger_json(fields);
    ASSERT(fails_with(json, "chargers[0].password_file: cannot be used together with password_hash"));
    free(json);

    snprintf(fields, sizeof(fields), ",\"upstream_password_file\":\"%s\","
                                     "\"upstream_password\":\"abc\"", path);
    json = charger_json(fields);
    ASSERT(fails_with(json, "chargers[0].upstream_password_file: cannot be used together with "
                            "upstream_password"));
    free(json);
}

TEST(upstream_password)
{
    struct config cfg;
    char *json = charger_json(",\"upstream_password\":\"0123456789abcdef\"");
    ASSERT(parses(json, &cfg));
    free(json);
    ASSERT_STR_EQ(cfg.chargers[0].upstream_password, "0123456789abcdef");
    ASSERT_NULL(cfg.chargers[0].password_hash);
    config_free(&cfg);

    char fields[512], want[512];
    const char *path = write_file("up", "fedcba9876543210\n", 17);
    snprintf(fields, sizeof(fields), ",\"upstream_password_file\":\"%s\"", path);
    json = charger_json(fields);
    ASSERT(parses(json, &cfg));
    free(json);
    ASSERT_STR_EQ(cfg.chargers[0].upstream_password, "fedcba9876543210");
    config_free(&cfg);

    char long_pw[66];
    memset(long_pw, 'p', 65);
    long_pw[65] = '\n';
    path = write_file("up-long", long_pw, sizeof(long_pw));
    snprintf(fields, sizeof(fields), ",\"upstream_password_file\":\"%s\"", path);
    json = charger_json(fields);
    ASSERT(fails_with(json, "chargers[0].upstream_password_file: the password in the file must "
                            "be 1 to 64 characters"));
    free(json);

    path = write_file("up-empty", "", 0);
    snprintf(fields, sizeof(fields), ",\"upstream_password_file\":\"%s\"", path);
    snprintf(want, sizeof(want), "chargers[0].upstream_password_file: %s: holds no password", path);
    json = charger_json(fields);
    ASSERT(fails_with(json, want));
    free(json);
}

TEST(secrets_not_in_errors)
{
    static const char *const secret_fields[] = {
        ",\"password_hash\":\"pbkdf2-sha256$10000$U2VjcmV0U2VjcmV0$U2VjcmV0\"",
        ",\"password_hash\":\"TopSecretPlaintext\"",
        ",\"upstream_password\":\"TopSecretPlaintextTopSecretPlaintextTopSecretPlaintextTopSecret!!\"",
    };
    for (size_t i = 0; i < sizeof(secret_fields) / sizeof(secret_fields[0]); i++) {
        char *json = charger_json(secret_fields[i]);
        struct config cfg;
        char err[CONFIG_ERR_MAX];
        int rc = parse(json, &cfg, err);
        free(json);
        ASSERT_EQ(rc, -EINVAL);
        if (strstr(err, "Secret") || strstr(err, "U2Vj"))
            TEST__FAIL("secret in error: %s", err);
    }
}

/* --- hostile and broken input -------------------------------------------- */

TEST(not_json)
{
    ASSERT(fails_with("", "file is empty"));
    ASSERT(fails_with(" \n\t\r\n", "file is empty"));
    ASSERT(fails_with("{", "invalid JSON at line 1, column 1"));
    ASSERT(fails_with("{\n  \"site\": x\n}", "invalid JSON at line 2, column 11"));
    ASSERT(fails_with("{\"site\":{}} x", "invalid JSON at line 1, column 13: text after the end"));
    ASSERT(fails_with("{\"site\":{}}{}", "invalid JSON at line 1, column 12: text after the end"));
    ASSERT(fails_with("[]", "top level: must be a JSON object"));
    ASSERT(fails_with("null", "top level: must be a JSON object"));
    ASSERT(fails_with("\"site\"", "top level: must be a JSON object"));
    ASSERT(fails_with("{}", "site: is required"));
    ASSERT(fails_with("{\"site\":{\"id\":'S'}}", "invalid JSON at line 1, column 15"));
    /* cJSON places some errors a character or two late: only the line is certain. */
    struct config cfg;
    char err[CONFIG_ERR_MAX];
    ASSERT_EQ(parse("{\"site\":{\"id\":\"S\",}}", &cfg, err), -EINVAL);
    ASSERT_EQ(strncmp(err, "invalid JSON at line 1, column ", 31), 0);
    ASSERT(fails_with("{\"site\":NaN}", "invalid JSON at line 1, column 9"));
    /* cJSON does not check UTF-8; the id charset does. */
    ASSERT(fails_with("{\"site\":{\"id\":\"S\xff\",\"grid_limit_kw\":1},"
                      "\"upstream\":{\"url\":\"ws://h\"}}",
                      "site.id: may only contain letters, digits and ._-"));
}

TEST(nul_in_input)
{
    /* A NUL byte in the buffer ends nothing: it is text after the end. */
    static const char withnul[] = "{\"site\":{}}\0{\"x\":1}";
    struct config cfg;
    char err[CONFIG_ERR_MAX];
    ASSERT_EQ(config_parse(withnul, sizeof(withnul) - 1, &cfg, err), -EINVAL);
    ASSERT_STR_EQ(err, "invalid JSON at line 1, column 12: text after the end");
    /* \u0000 would cut an id short: refused, with its place. */
    char *json = with(BASE, "chargers[0].id", "\"CP01\\u0000x\"");
    const char *at = strstr(json, "\\u0000");
    char want[128];
    snprintf(want, sizeof(want), "invalid JSON at line 1, column %d: \\u0000 is not allowed",
             (int)(at - json) + 1);
    ASSERT(fails_with(json, want));
    free(json);
    /* An escaped backslash before "u0000" is just text. */
    json = with(BASE, "state_dir", "\"C:\\\\u0000\"");
    ASSERT(parses(json, &cfg));
    free(json);
    ASSERT_STR_EQ(cfg.state_dir, "C:\\u0000");
    config_free(&cfg);
}

TEST(deep_nesting)
{
    enum { DEPTH = 10000 };
    char *json = malloc(2 * DEPTH * 6 + 64);
    /* 10,000 nested arrays and 10,000 nested objects, in a known and an unknown key. */
    static const char *const shapes[][2] = { { "[", "]" }, { "{\"a\":", "}" } };
    static const char *const keys[] = { "site", "zz" };
    for (size_t s = 0; s < 2; s++) {
        for (size_t k = 0; k < 2; k++) {
            size_t len = (size_t)sprintf(json, "{\"%s\":", keys[k]);
            for (int i = 0; i < DEPTH; i++)
                len += (size_t)sprintf(json + len, "%s", shapes[s][0]);
            len += (size_t)sprintf(json + len, "1");
            for (int i = 0; i < DEPTH; i++)
                len += (size_t)sprintf(json + len, "%s", shapes[s][1]);
            sprintf(json + len, "}");
            struct config cfg;
            char err[CONFIG_ERR_MAX];
            int rc = parse(json, &cfg, err);
            if (rc != -EINVAL || strncmp(err, "invalid JSON at line 1, column ", 31) != 0)
                TEST__FAIL("shape %zu key %zu: rc=%d %s", s, k, rc, err);
        }
    }
    /* Deep but within cJSON's limit: refused by the walker, nothing left behind. */
    size_t len = (size_t)sprintf(json, "{\"zz\":");
    for (int i = 0; i < 900; i++)
        len += (size_t)sprintf(json + len, "[\"secret\",");
    len += (size_t)sprintf(json + len, "1");
    for (int i = 0; i < 900; i++)
        len += (size_t)sprintf(json + len, "]");
    sprintf(json + len, "}");
    ASSERT(fails_with(json, "zz: unknown key"));
    free(json);
}

TEST(too_large)
{
    size_t n = 4u * 1024 * 1024 + 1;
    char *big = malloc(n);
    memset(big, ' ', n);
    memcpy(big, BASE, strlen(BASE));
    struct config cfg;
    char err[CONFIG_ERR_MAX];
    ASSERT_EQ(config_parse(big, n, &cfg, err), -EFBIG);
    ASSERT_STR_EQ(err, "file is larger than 4 MiB");
    ASSERT_EQ(memcmp(&cfg, &zero_config, sizeof(cfg)), 0);
    /* Exactly 4 MiB, padded with spaces, is fine. */
    ASSERT_EQ(config_parse(big, n - 1, &cfg, err), 0);
    config_free(&cfg);

    const char *path = write_file("huge.json", big, n);
    ASSERT_EQ(config_load(path, &cfg, err), -EFBIG);
    ASSERT_STR_EQ(err, "file is larger than 4 MiB");
    path = write_file("big.json", big, n - 1);
    ASSERT_EQ(config_load(path, &cfg, err), 0);
    ASSERT_STR_EQ(cfg.site.id, "S1");
    config_free(&cfg);
    free(big);
}

TEST(load_errors)
{
    struct config cfg;
    char err[CONFIG_ERR_MAX], want[256];
    snprintf(want, sizeof(want), "%s/none.json", tmpdir);
    ASSERT_EQ(config_load(want, &cfg, err), -ENOENT);
    char expect[400];
    snprintf(expect, sizeof(expect), "cannot read %s: No such file or directory", want);
    ASSERT_STR_EQ(err, expect);
    ASSERT_EQ(memcmp(&cfg, &zero_config, sizeof(cfg)), 0);

    ASSERT_EQ(config_load(tmpdir, &cfg, err), -EISDIR);
    snprintf(expect, sizeof(expect), "cannot read %s: Is a directory", tmpdir);
    ASSERT_STR_EQ(err, expect);

    const char *path = write_file("empty.json", "", 0);
    ASSERT_EQ(config_load(path, &cfg, err), -EINVAL);
    ASSERT_STR_EQ(err, "file is empty");

    static const char bad[] = "{\"site\":{\"id\":\"S\",\"grid_limit_kw\":5},\n"
                              "\"upstream\":{\"url\":\"https://csms\"}}\n";
    path = write_file("bad.json", bad, strlen(bad));
    ASSERT_EQ(config_load(path, &cfg, err), -EINVAL);
    ASSERT_STR_EQ(err, "upstream.url: must start with ws:// or wss://");
    ASSERT_EQ(memcmp(&cfg, &zero_config, sizeof(cfg)), 0);
}

/* --- the example config -------------------------------------------------- */

TEST(example_loads)
{
    struct config cfg;
    char err[CONFIG_ERR_MAX];
    int rc = config_load(EXAMPLE_CONFIG, &cfg, err);
    if (rc)
        TEST__FAIL("%s: %s", EXAMPLE_CONFIG, err);
    ASSERT_STR_EQ(cfg.site.id, "DEPOT-01");
    ASSERT_STR_EQ(cfg.site.timezone, "Asia/Kolkata");
    ASSERT_DBL_NEAR(cfg.site.grid_limit_kw, 200, 0);
    ASSERT(cfg.site.n_schedule >= 1);
    ASSERT_STR_EQ(cfg.listen.address, "127.0.0.1");
    ASSERT_EQ(cfg.listen.port, 9000);
    ASSERT_STR_EQ(cfg.listen.path, "/ocpp");
    ASSERT_STR_EQ(cfg.upstream.url, "ws://127.0.0.1:9100/ocpp");
    ASSERT_EQ(cfg.upstream.mode, CONFIG_MODE_PASSTHROUGH);
    ASSERT_EQ(cfg.n_chargers, 2);
    const struct config_charger *cp01 = config_find_charger(&cfg, "CP01");
    const struct config_charger *cp02 = config_find_charger(&cfg, "CP02");
    ASSERT_NOT_NULL(cp01);
    ASSERT_NOT_NULL(cp02);
    ASSERT_EQ(cp01->phases, 3);
    ASSERT_EQ(cp01->phase, CONFIG_PHASE_NONE);
    ASSERT_DBL_NEAR(cp01->max_current_a, 32, 0);
    ASSERT_EQ(cp02->phases, 1);
    ASSERT_EQ(cp02->phase, CONFIG_PHASE_L2);
    ASSERT_DBL_NEAR(cp02->max_current_a, 16, 0);
    ASSERT_NULL(cp01->password_hash); /* the demo chargers connect without auth */
    ASSERT_NULL(cp02->password_hash);
    ASSERT_STR_EQ(cfg.state_dir, "/var/lib/sitegate");
    config_free(&cfg);
}

/* Every prefix of a real config is broken JSON and must fail cleanly. */
TEST(example_prefixes)
{
    size_t len;
    char *text = read_all(EXAMPLE_CONFIG, &len);
    ASSERT_NOT_NULL(text);
    const char *last = strrchr(text, '}');
    ASSERT_NOT_NULL(last);
    size_t whole = (size_t)(last - text) + 1;
    for (size_t n = 0; n < whole; n++) {
        /* Not NUL-terminated at n: copy, so ASan sees any read past it. */
        char *prefix = malloc(n ? n : 1);
        memcpy(prefix, text, n);
        struct config cfg;
        char err[CONFIG_ERR_MAX];
        int rc = config_parse(prefix, n, &cfg, err);
        free(prefix);
        if (rc == 0 || !err[0] || memcmp(&cfg, &zero_config, sizeof(cfg)) != 0)
            TEST__FAIL("prefix of %zu bytes: rc=%d err=%s", n, rc, err);
    }
    free(text);
}

/* Every key the loader knows appears in the example, and in the README. */
TEST(example_and_readme_show_every_key)
{
    static const char *const keys[] = {
        "site", "id", "timezone", "grid_limit_kw", "phase_limit_a", "margin_kw", "voltage_v",
        "schedule", "from", "to", "listen", "address", "port", "path", "ping_interval_s",
        "allow_unknown_chargers", "upstream", "url", "mode", "tls_verify", "call_timeout_s",
        "reconnect_min_s", "reconnect_max_s", "charger_defaults", "chargers", "connectors",
        "phases", "phase", "min_current_a", "max_current_a", "priority", "charging_rate_unit",
        "profile", "stack_level", "smart_charging", "balancer", "increase_interval_s",
        "deadband_a", "headroom_a", "profile_id", "limits", "max_frame_bytes",
        "max_pending_calls", "hold_frames", "state_dir", "log_level", "local_list", "id_tag",
        "expiry", "aggregate", "vendor", "model", "meter_interval_s", "allow_hard_reset",
    };
    /* Not in the example on purpose (a file that must exist, secrets). */
    static const char *const readme_only[] = {
        "ca_file", "password_hash", "password_file", "upstream_password", "upstream_password_file",
        "site_connectors", /* aggregate mode only */
    };
    size_t len;
    char *example = read_all(EXAMPLE_CONFIG, &len);
    char *readme = read_all(README_MD, &len);
    ASSERT_NOT_NULL(example);
    ASSERT_NOT_NULL(readme);
    char quoted[64], ticked[64];
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        snprintf(quoted, sizeof(quoted), "\"%s\"", keys[i]);
        snprintf(ticked, sizeof(ticked), "%s`", keys[i]);
        if (!strstr(example, quoted))
            TEST__FAIL("example lacks %s", quoted);
        if (!strstr(readme, ticked))
            TEST__FAIL("README lacks %s", keys[i]);
    }
    for (size_t i = 0; i < sizeof(readme_only) / sizeof(readme_only[0]); i++) {
        snprintf(ticked, sizeof(ticked), "%s`", readme_only[i]);
        if (!strstr(readme, ticked))
            TEST__FAIL("README lacks %s", readme_only[i]);
    }
    free(example);
    free(readme);
}

int main(void)
{
    if (!tmpdir_create("test_config"))
        return 1;
    RUN(base_is_valid);
    RUN(bad_values);
    RUN(bounds_inclusive);
    RUN(defaults);
    RUN(every_value_set);
    RUN(listen_path_root);
    RUN(charger_defaults_inherited);
    RUN(duplicate_keys);
    RUN(unknown_key_shown_safely);
    RUN(duplicate_charger_ids);
    RUN(many_chargers);
    RUN(find_without_index);
    RUN(schedule_parsed);
    RUN(aggregate_site_connectors);
    RUN(local_list);
    RUN(schedule_overlap);
    RUN(schedule_caps_and_count);
    RUN(password_hash_kept);
    RUN(password_file);
    RUN(password_not_both);
    RUN(upstream_password);
    RUN(secrets_not_in_errors);
    RUN(not_json);
    RUN(nul_in_input);
    RUN(deep_nesting);
    RUN(too_large);
    RUN(load_errors);
    RUN(example_loads);
    RUN(example_prefixes);
    RUN(example_and_readme_show_every_key);

    /* Leave no temp files behind. */
    tmpdir_remove();
    return test_summary();
}
