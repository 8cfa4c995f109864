/* The site's configuration: one JSON file, loaded and validated as a whole.
 *
 * Every key is documented in config/README.md and shown in
 * config/sitegate.example.json. Unknown keys are errors; every error names the
 * JSON path and what is wrong ("upstream.url: must start with ws:// or wss://").
 * Secrets (password hashes, upstream passwords) are held here and nowhere else,
 * and never printed.
 */
#ifndef SITEGATE_CONFIG_H
#define SITEGATE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "log.h"

#define CONFIG_ID_MAX 48 /* OCPP identity: identifierString up to 48 chars */
#define CONFIG_ERR_MAX 512

enum config_mode { CONFIG_MODE_PASSTHROUGH, CONFIG_MODE_AGGREGATE };

/* Which phase a single-phase charger is wired to; 0 for three-phase chargers. */
enum config_phase { CONFIG_PHASE_NONE = 0, CONFIG_PHASE_L1 = 1, CONFIG_PHASE_L2, CONFIG_PHASE_L3 };

/* What the charger says wins unless the site manager overrides it here. */
enum config_unit { CONFIG_UNIT_AUTO, CONFIG_UNIT_A, CONFIG_UNIT_W };
enum config_profile { CONFIG_PROFILE_AUTO, CONFIG_PROFILE_CHARGER_MAX, CONFIG_PROFILE_TX_DEFAULT };
enum config_tristate { CONFIG_AUTO, CONFIG_ON, CONFIG_OFF };

/* A time-of-day window with its own, lower caps. Times are minutes since local
 * midnight; to_min <= from_min wraps past midnight. A cap that is not set is NAN. */
struct config_schedule {
    int from_min;
    int to_min;
    double grid_limit_kw;
    double phase_limit_a;
};

struct config_charger {
    char id[CONFIG_ID_MAX + 1];
    char *password_hash;     /* the charger's Basic-auth password, salted hash; NULL: none asked */
    char *upstream_password; /* Basic-auth password toward the CSMS; NULL: none sent */
    int connectors;          /* 1..16 */
    int phases;              /* 1 or 3 */
    enum config_phase phase; /* for phases == 1 */
    double min_current_a;
    double max_current_a;
    int priority;            /* higher is served first */
    enum config_unit charging_rate_unit;
    enum config_profile profile;
    int stack_level;         /* -1: the charger's reported maximum */
    enum config_tristate smart_charging;
};

struct config {
    struct {
        char id[CONFIG_ID_MAX + 1];
        char *timezone;          /* IANA name, e.g. "Asia/Kolkata" */
        double grid_limit_kw;
        double phase_limit_a;    /* NAN: no per-phase cap */
        double margin_kw;
        double voltage_v;        /* phase-to-neutral */
        struct config_schedule *schedule;
        size_t n_schedule;
    } site;
    struct {
        char *address;
        int port;
        char *path;              /* URL prefix, "/ocpp": chargers connect to <path>/<id>;
                                    no trailing "/", so "/" in the file is "" here */
        int ping_interval_s;
        bool allow_unknown_chargers;
    } listen;
    struct {
        char *url;               /* ws:// or wss://, without the charger id */
        enum config_mode mode;
        char *ca_file;           /* NULL: the system's CAs */
        bool tls_verify;
        int call_timeout_s;
        int ping_interval_s;
        double reconnect_min_s;
        double reconnect_max_s;
    } upstream;
    struct config_charger charger_defaults; /* for chargers not listed (id empty) */
    struct config_charger *chargers;     /* in file order */
    size_t n_chargers;
    const struct config_charger **charger_index; /* private to config/: sorted by id */
    struct {
        int increase_interval_s;
        double deadband_a;
        double headroom_a;
        int profile_id;
        int stack_level;         /* -1: each charger's reported maximum */
    } balancer;
    struct {
        size_t max_frame_bytes;
        int max_pending_calls;
        int hold_frames;
    } limits;
    char *state_dir;
    enum log_level log_level;
};

/* Reads and validates the file at path. On error returns a negative errno-style
 * code and writes "json.path: what is wrong" into err. */
int config_load(const char *path, struct config *out, char err[CONFIG_ERR_MAX]);

/* Same as config_load, from a buffer. */
int config_parse(const char *json, size_t len, struct config *out, char err[CONFIG_ERR_MAX]);

/* Frees everything config_load allocated; the struct may then be reused. */
void config_free(struct config *cfg);

/* The configured charger with this id, or NULL. */
const struct config_charger *config_find_charger(const struct config *cfg, const char *id);

#endif
