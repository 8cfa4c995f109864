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
#include <stdint.h>

#include "log.h"

#define CONFIG_ID_MAX 48 /* OCPP identity: identifierString up to 48 chars */
#define CONFIG_ERR_MAX 512

enum config_mode { CONFIG_MODE_PASSTHROUGH, CONFIG_MODE_AGGREGATE };
/* The OCPP version of the site's own upstream socket (aggregate mode). */
enum config_ocpp_version { CONFIG_OCPP_16, CONFIG_OCPP_201 };

/* Which phase a single-phase charger is wired to; 0 for three-phase chargers. */
enum config_phase { CONFIG_PHASE_NONE = 0, CONFIG_PHASE_L1 = 1, CONFIG_PHASE_L2, CONFIG_PHASE_L3 };

/* What the charger says wins unless the site manager overrides it here. */
enum config_unit { CONFIG_UNIT_AUTO, CONFIG_UNIT_A, CONFIG_UNIT_W };
enum config_profile { CONFIG_PROFILE_AUTO, CONFIG_PROFILE_CHARGER_MAX, CONFIG_PROFILE_TX_DEFAULT };
enum config_tristate { CONFIG_AUTO, CONFIG_ON, CONFIG_OFF };
/* What an idTag neither the local list nor the auth cache knows gets offline. */
enum config_unknown_tags { CONFIG_UNKNOWN_REJECT, CONFIG_UNKNOWN_ACCEPT };

/* A verdict of the site's own authorization list (offline.local_list). */
enum config_auth { CONFIG_AUTH_ACCEPTED, CONFIG_AUTH_BLOCKED, CONFIG_AUTH_EXPIRED, CONFIG_AUTH_INVALID };

/* One entry of offline.local_list: an idTag (1.6) or idToken (2.0.1) the
 * gateway answers for itself while the CSMS is unreachable. */
#define CONFIG_TAG_MAX 36 /* 2.0.1 idToken; 1.6 idTags are 20 */
struct config_local_tag {
    char id_tag[CONFIG_ID_MAX + 1]; /* at most CONFIG_TAG_MAX characters */
    enum config_auth status;
    int64_t expiry;      /* Unix seconds; 0: none */
};

/* A time-of-day window with its own, lower caps. Times are minutes since local
 * midnight; to_min <= from_min wraps past midnight. A cap that is not set is NAN. */
struct config_schedule {
    int from_min;
    int to_min;
    double grid_limit_kw;
    double phase_limit_a;
};

#define CONFIG_CONNECTORS_MAX 16
#define CONFIG_SITE_CONNECTOR_MAX 999

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
    int security_profile;     /* OCPP security profile 0..3: the least this charger must show */
    char *upstream_cert_file; /* client certificate toward the CSMS (wss); NULL: upstream.cert_file */
    char *upstream_key_file;  /* its private key */
    /* Aggregate mode: the site connector number of each connector (index
     * connector - 1); 0: the next free number, kept in the state. */
    int site_connectors[CONFIG_CONNECTORS_MAX];
};

/* --- meters (config_meters.c, config_registers.c) ------------------------ */

#define CONFIG_METER_NAME_MAX 32
#define CONFIG_METERS_MAX 32
#define CONFIG_DERATING_MAX 16

/* What a meter measures: the site's grid connection, a transformer monitor, or
 * a feeder that only chargers hang on. */
enum config_meter_role { CONFIG_METER_GRID, CONFIG_METER_TRANSFORMER, CONFIG_METER_EV_SUBMETER };

enum config_transport { CONFIG_MODBUS_TCP, CONFIG_MODBUS_RTU };
enum config_parity { CONFIG_PARITY_NONE, CONFIG_PARITY_EVEN, CONFIG_PARITY_ODD };

/* The quantities a register map may name, each in the unit its key names:
 * A, W (import positive), Wh, V, degrees C, kVA. The order is the key order
 * of config/README.md; config_quantity_name() gives the key. */
enum config_quantity {
    CONFIG_Q_CURRENT_L1,
    CONFIG_Q_CURRENT_L2,
    CONFIG_Q_CURRENT_L3,
    CONFIG_Q_POWER,          /* total active power */
    CONFIG_Q_POWER_L1,
    CONFIG_Q_POWER_L2,
    CONFIG_Q_POWER_L3,
    CONFIG_Q_ENERGY_IMPORT,
    CONFIG_Q_VOLTAGE_L1,
    CONFIG_Q_VOLTAGE_L2,
    CONFIG_Q_VOLTAGE_L3,
    CONFIG_Q_OIL_TEMP_C,
    CONFIG_Q_WINDING_TEMP_C,
    CONFIG_Q_LOAD_KVA,
    CONFIG_Q_COUNT
};

enum config_reg_function { CONFIG_REG_HOLDING, CONFIG_REG_INPUT };
enum config_reg_type {
    CONFIG_REG_U16, CONFIG_REG_S16, CONFIG_REG_U32, CONFIG_REG_S32, CONFIG_REG_U64,
    CONFIG_REG_FLOAT32, CONFIG_REG_FLOAT64
};
enum config_order { CONFIG_ORDER_BIG, CONFIG_ORDER_LITTLE };

/* Where one quantity lives on the device and how to turn its registers into
 * the quantity's unit: value = raw * scale + offset. */
struct config_register {
    bool present;
    int address;                    /* 0..65535, as sent on the wire (0-based) */
    enum config_reg_function function;
    enum config_reg_type type;
    enum config_order word_order;   /* big: the first register holds the high word */
    enum config_order byte_order;   /* big: the high byte first within a register */
    double scale;
    double offset;
};

/* One point of a transformer's derating curve. */
struct config_derating_point {
    double temp_c;
    double percent;                 /* of rating_kva, 0..100 */
};

struct config_meter {
    char name[CONFIG_METER_NAME_MAX + 1];
    enum config_meter_role role;
    char *template_name;            /* NULL: the map comes from registers alone */
    enum config_transport transport;
    struct {
        char *host;
        int port;
    } tcp;                          /* for CONFIG_MODBUS_TCP */
    struct {
        char *device;               /* serial device path; meters on one path share the bus */
        int baud;
        enum config_parity parity;
        int data_bits;              /* 7 or 8 */
        int stop_bits;              /* 1 or 2 */
    } rtu;                          /* for CONFIG_MODBUS_RTU */
    int unit_id;                    /* 0..247 (1..247 on RTU) */
    int poll_ms;
    int timeout_ms;
    int retries;
    /* The template merged with the overrides, indexed by quantity. */
    struct config_register registers[CONFIG_Q_COUNT];
    double rating_kva;              /* transformer only; NAN otherwise */
    struct config_derating_point *derating; /* strictly increasing temp_c; NULL: none */
    size_t n_derating;
};

/* --- demand response (config_openadr.c) --------------------------------- */

#define CONFIG_OADR_ID_MAX 128        /* OpenADR objectID / venName length */
#define CONFIG_OADR_PROGRAMS_MAX 16
#define CONFIG_OADR_GROUPS_MAX 16
#define CONFIG_OADR_SIMPLE_LEVELS 4   /* SIMPLE 0..3 */

/* The "openadr" section: OpenADR 3.1 events over MQTT. */
struct config_openadr {
    bool enabled;                 /* the section is present */
    char *broker;                 /* mqtt://host[:port] or mqtts://host[:port] */
    char *ven_id;
    char *topic_prefix;           /* no leading or trailing "/" */
    char **programs;              /* enrolled program ids */
    size_t n_programs;
    char **groups;                /* further target names of this site */
    size_t n_groups;
    char *client_id;              /* default "sitegate-<ven_id>" */
    char *username;               /* NULL: none */
    char *password;               /* secret; NULL: none */
    char *ca_file;                /* NULL: the system's CAs (mqtts) */
    char *cert_file;              /* client certificate and key (mqtts); NULL: none */
    char *key_file;
    int keepalive_s;
    double reconnect_min_s;
    double reconnect_max_s;
    int report_interval_s;
    double simple_shed[CONFIG_OADR_SIMPLE_LEVELS]; /* share of the cap each level sheds */
    int max_future_h;             /* events starting later than this are refused */
    size_t max_message_bytes;
};

/* --- TLS toward the chargers (config_tls.c) ---------------------------- */

/* Which field of a charger's client certificate must equal its id. */
enum config_cert_id { CONFIG_CERT_ID_CN, CONFIG_CERT_ID_SERIAL };
enum config_tls_min { CONFIG_TLS_1_2, CONFIG_TLS_1_3 };

/* The "listen.tls" section: a wss:// listener beside (or instead of) ws://. */
struct config_listen_tls {
    bool enabled;                 /* the section is present */
    int port;
    char *cert_file;              /* the gateway's server certificate (chain), PEM */
    char *key_file;
    char *ca_file;                /* CAs of chargers' client certificates; NULL: none asked */
    enum config_cert_id client_id_field;
    enum config_tls_min min_version;
    char *ciphers;                /* TLS 1.2 cipher list (OpenSSL syntax) */
};

/* --- the status listener (config_status.c) -------------------------------- */

#define CONFIG_STATUS_TOKEN_MAX 256

/* The "status" section: the status API, metrics and dashboard listener. */
struct config_status {
    bool enabled;                 /* the section is present */
    char *listen;                 /* "host:port" as written, "[v6]:port" for IPv6 */
    char *address;                /* its host part, without brackets */
    int port;
    char *token;                  /* secret: the bearer token asked for; NULL: none */
    int max_streams;              /* live streams (/api/stream) served at once */
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
        int meter_stale_s;       /* a grid meter silent this long is stale */
        double other_load_max_kw; /* worst case of the non-EV loads; NAN: not set */
        double fallback_ev_kw;   /* EV budget while the grid meter is stale; NAN: not set */
    } site;
    struct {
        char *address;
        int port;
        char *path;              /* URL prefix, "/ocpp": chargers connect to <path>/<id>;
                                    no trailing "/", so "/" in the file is "" here */
        int ping_interval_s;
        bool allow_unknown_chargers;
        bool plain;              /* the ws:// listener on port */
        struct config_listen_tls tls;
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
        double reconnect_rate_per_s; /* upstream connection attempts per second, all chargers */
        char *cert_file;         /* default client certificate (wss); NULL: none */
        char *key_file;
        enum config_ocpp_version ocpp_version; /* aggregate mode: the site's version */
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
        int lease_s;             /* 0: no lease (profiles without validTo) */
        double safe_limit_a;     /* per charger, the safe default profile under a lease */
        int apply_window_s;      /* time a charger has to obey a lower limit */
    } balancer;
    struct {
        enum config_unknown_tags unknown_tags;
        int hold_s;               /* a CALL held this long for the CSMS is answered locally */
        int heartbeat_interval_s; /* the interval a local BootNotification answer gives */
        int auth_cache_s;         /* how long an accepted idTag without expiry is cached */
        int replay_interval_ms;   /* at least this between two replayed CALLs */
        int max_queue_mb;         /* disk budget of the store-and-forward queue */
        bool close_chargers;      /* close a charger's socket when its upstream is lost */
        struct config_local_tag *local_list; /* sorted by id_tag (config_find_local_tag) */
        size_t n_local_list;
    } offline;
    struct {
        char *vendor;             /* the site's BootNotification */
        char *model;
        int meter_interval_s;     /* the grid meter on connector 0; 0: not reported */
        bool allow_hard_reset;    /* a CSMS Reset Hard is passed on to every charger */
        char *id_token_type;      /* 2.0.1 IdTokenEnumType of 1.6 chargers' idTags */
    } aggregate;
    struct {
        size_t max_frame_bytes;
        int max_pending_calls;
        int hold_frames;
        int max_connections;          /* charger sockets, handshakes included */
        int max_connections_per_address; /* 0: no limit */
        double charger_frames_per_s;  /* 0: no limit */
        int handshake_timeout_s;      /* accept to WebSocket established */
        int idle_timeout_s;           /* no frame from a charger this long: closed; 0: never */
        size_t max_queued_bytes;      /* per socket and direction */
    } limits;
    char *state_dir;
    enum log_level log_level;
    char *template_dir;          /* NULL: SITEGATE_TEMPLATE_DIR, fixed at build time */
    struct config_meter *meters; /* in file order */
    size_t n_meters;
    struct config_openadr openadr;
    struct config_status status;
};

/* Reads and validates the file at path. On error returns a negative errno-style
 * code and writes "json.path: what is wrong" into err. */
int config_load(const char *path, struct config *out, char err[CONFIG_ERR_MAX]);

/* Reads the file at path (at most 4 MiB) into *text, malloc'd, not
 * NUL-terminated, for config_parse; free it with config_free_text. Returns 0
 * or a negative errno, with the reason in err. */
int config_read_file(const char *path, char **text, size_t *len, char err[CONFIG_ERR_MAX]);

/* Wipes (it may hold secrets) and frees what config_read_file returned. */
void config_free_text(char *text, size_t len);

/* Same as config_load, from a buffer. */
int config_parse(const char *json, size_t len, struct config *out, char err[CONFIG_ERR_MAX]);

/* Frees everything config_load allocated; the struct may then be reused. */
void config_free(struct config *cfg);

/* The configured charger with this id, or NULL. */
const struct config_charger *config_find_charger(const struct config *cfg, const char *id);

/* The offline.local_list entry of this idTag/idToken, or NULL. */
const struct config_local_tag *config_find_local_tag(const struct config *cfg, const char *id_tag);

/* How many 16-bit registers a value of this type spans (1, 2 or 4). */
int config_register_words(enum config_reg_type type);

/* The register map key of a quantity ("current_l1", "power", ...). */
const char *config_quantity_name(enum config_quantity q);

/* The share of a transformer's rating allowed at this temperature, in percent:
 * 100 below the first derating point (or with no curve), linear between
 * points, the last point's percent above the last. NAN for a NAN temperature. */
double config_derating_percent(const struct config_meter *m, double temp_c);

/* The templates directory used when the config names none (build-time). */
const char *config_template_dir_default(void);

/* --- live reload (config_reload.c) ------------------------------------------
 * A SIGHUP applies the keys below to the running gateway; a change to any
 * other key needs a restart. The table of these keys is in config_reload.c. */

/* Compares the running config's text with a new one (both valid configs) key
 * by key, as written. Writes the JSON paths of the changed keys that a reload
 * applies into applied, and of those that need a restart into restart (each
 * space-separated, cut short with "..." to fit cap). Returns the number of
 * changes that need a restart, or -EINVAL if a text is not a JSON object. */
int config_reload_diff(const char *old_text, size_t old_len, const char *new_text, size_t new_len,
                       char *applied, size_t applied_cap, char *restart, size_t restart_cap);

/* Moves the keys a reload applies from fresh into live, in place: live keeps
 * every pointer that the rest of the gateway holds into it (its chargers, its
 * strings). Call only when config_reload_diff found nothing that needs a
 * restart; then free fresh with config_free. */
void config_reload_apply(struct config *live, struct config *fresh);

#endif
