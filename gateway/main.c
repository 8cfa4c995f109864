/* sitegate: the command line. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "config.h"
#include "gateway.h"
#include "log.h"
#include "password.h"

static void usage(FILE *to)
{
    fprintf(to,
            "usage: sitegate -c FILE        run the gateway\n"
            "       sitegate -t -c FILE     check the config file and exit\n"
            "       sitegate --hash-password\n"
            "                               read a password on stdin, print its salted hash\n"
            "                               (for chargers[].password_hash)\n"
            "       sitegate --version | -h\n"
            "\n"
            "exit codes: 0 ok, 1 failure while starting or running, 2 bad command line,\n"
            "            3 invalid config file\n");
}

static int hash_password(void)
{
    char password[1024], hash[256];
    if (!fgets(password, sizeof(password), stdin)) {
        fprintf(stderr, "sitegate: no password on stdin\n");
        return GATEWAY_EXIT_USAGE;
    }
    password[strcspn(password, "\r\n")] = '\0';
    int rc = password[0] ? password_hash_new(password, hash, sizeof(hash)) : -1;
    OPENSSL_cleanse(password, sizeof(password));
    if (rc != 0) {
        fprintf(stderr, "sitegate: cannot hash an empty password\n");
        return GATEWAY_EXIT_USAGE;
    }
    printf("%s\n", hash);
    return GATEWAY_EXIT_OK;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "config", required_argument, NULL, 'c' },
        { "test", no_argument, NULL, 't' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { "hash-password", no_argument, NULL, 'P' },
        { NULL, 0, NULL, 0 },
    };
    const char *path = NULL;
    bool check_only = false;
    int opt;
    while ((opt = getopt_long(argc, argv, "c:th", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            path = optarg;
            break;
        case 't':
            check_only = true;
            break;
        case 'h':
            usage(stdout);
            return GATEWAY_EXIT_OK;
        case 'V':
            printf("sitegate %s\n", SITEGATE_VERSION);
            return GATEWAY_EXIT_OK;
        case 'P':
            return hash_password();
        default:
            usage(stderr);
            return GATEWAY_EXIT_USAGE;
        }
    }
    if (!path || optind != argc) {
        usage(stderr);
        return GATEWAY_EXIT_USAGE;
    }

    log_detect_journal();
    struct config cfg;
    char err[CONFIG_ERR_MAX];
    char *text;
    size_t len;
    /* The text is kept: a SIGHUP compares the new file with it. */
    if (config_read_file(path, &text, &len, err) != 0 || config_parse(text, len, &cfg, err) != 0) {
        config_free_text(text, len);
        log_error("config", "%s", err);
        return GATEWAY_EXIT_CONFIG;
    }
    if (check_only) {
        printf("sitegate: %s is valid\n", path);
        config_free_text(text, len);
        config_free(&cfg);
        return GATEWAY_EXIT_OK;
    }
    log_set_level(cfg.log_level);
    int rc = gateway_run(&cfg, path, text, len);
    config_free(&cfg);
    return rc;
}
