/* Helpers of the config tests: edit a JSON config in place by path, check
 * that it parses or fails with an exact error (leaving the struct zeroed),
 * and a temporary directory for files the configs name. */
#ifndef SITEGATE_CONFIG_TEST_H
#define SITEGATE_CONFIG_TEST_H

#include <errno.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "json_with.h"

static const struct config zero_config;

static char tmpdir[64];

static inline int parse(const char *json, struct config *cfg, char *err)
{
    return config_parse(json, strlen(json), cfg, err);
}

/* Whether json fails with exactly this error and leaves the struct freed;
 * prints what happened when not. */
static inline bool fails_with(const char *json, const char *want)
{
    struct config cfg;
    char err[CONFIG_ERR_MAX];
    int rc = parse(json, &cfg, err);
    if (rc == 0) {
        fprintf(stderr, "  accepted: %s\n  wanted:   %s\n", json, want);
        config_free(&cfg);
        return false;
    }
    if (rc != -EINVAL || strcmp(err, want) != 0) {
        fprintf(stderr, "  got:    rc=%d \"%s\"\n  wanted: \"%s\"\n  json:   %s\n", rc, err, want,
                json);
        return false;
    }
    if (memcmp(&cfg, &zero_config, sizeof(cfg)) != 0) {
        fprintf(stderr, "  struct not freed after: %s\n", want);
        return false;
    }
    return true;
}

static inline bool parses(const char *json, struct config *cfg)
{
    char err[CONFIG_ERR_MAX];
    int rc = parse(json, cfg, err);
    if (rc != 0)
        fprintf(stderr, "  rejected (rc=%d): %s\n  json: %s\n", rc, err, json);
    return rc == 0;
}

/* Writes tmpdir/name; returns its path (valid until the next call). */
static inline char *write_file(const char *name, const char *content, size_t len)
{
    static char path[160];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(content, 1, len, f) != len || fclose(f) != 0) {
        perror(path);
        abort();
    }
    return path;
}

/* The whole file, NUL-terminated (malloc'd), its length in *len if asked. */
static inline char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = fread(buf, 1, (size_t)n, f);
    buf[got] = '\0';
    fclose(f);
    if (len)
        *len = got;
    return buf;
}

static inline int config_test__remove(const char *path, const struct stat *st, int flag,
                                      struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

/* Makes tmpdir (/tmp/<name>.XXXXXX); false on failure. */
static inline bool tmpdir_create(const char *name)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/%s.XXXXXX", name);
    if (mkdtemp(tmpdir))
        return true;
    perror("mkdtemp");
    return false;
}

/* Removes tmpdir and everything in it. */
static inline void tmpdir_remove(void)
{
    nftw(tmpdir, config_test__remove, 8, FTW_DEPTH | FTW_PHYS);
}

#endif
