/* civreg registry: verifying an export bundle offline. Nothing is trusted
 * but the office public key given: the tree head must carry its signature,
 * every event must be included in that tree (RFC 6962 proof), signers' keys
 * come only from user.add events that are themselves included, and record
 * versions and link statements must hash to what the events signed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/encode.h"
#include "core/json.h"
#include "registry_int.h"

static const char *s_of(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static int hex_hash_list(const json_t *a, merkle_hash *out, size_t *n)
{
    size_t i;
    json_t *h;

    *n = 0;
    if (!json_is_array(a) || json_array_size(a) > MERKLE_MAX_PROOF)
        return -1;
    json_array_foreach(a, i, h) {
        if (reg_hex32(json_string_value(h), out[i], "proof", NULL) != 0)
            return -1;
    }
    *n = json_array_size(a);
    return 0;
}

/* An object {kind, id, hash} among the verified events. */
static bool signed_object(const json_t *verified, const char *kind, const char *id,
                          const char *hash)
{
    size_t i, j;
    json_t *e, *o;

    json_array_foreach(verified, i, e) {
        json_array_foreach(json_object_get(e, "objects"), j, o) {
            if (strcmp(s_of(o, "kind"), kind) == 0 && strcmp(s_of(o, "id"), id) == 0 &&
                strcmp(s_of(o, "hash"), hash) == 0)
                return true;
        }
    }
    return false;
}

int registry_bundle_verify(const json_t *bundle, const unsigned char office_key[32],
                           void (*report)(void *ctx, const char *problem), void *ctx,
                           struct err *err)
{
    struct reg_problems b = { report, ctx, 0 };
    const json_t *head = json_object_get(bundle, "tree_head");
    const char *hbody = s_of(head, "body");
    json_t *hb = NULL, *keys = NULL, *verified = NULL, *e;
    unsigned char sig[REG_SIG_BYTES];
    merkle_hash root, path[MERKLE_MAX_PROOF];
    uint64_t size = 0;
    size_t i, n = 0;
    int rc = -1;

    if (!json_is_object(bundle) || strcmp(s_of(bundle, "format"), "civreg.bundle.v1") != 0)
        return err_set(err, "bundle: not a civreg bundle (format civreg.bundle.v1)");
    if ((keys = json_object()) == NULL || (verified = json_array()) == NULL) {
        err_oom(err);
        goto out;
    }
    /* 1. The tree head, signed by the office. */
    if (json_parse(hbody, strlen(hbody), &hb, NULL) != 0 ||
        (strcmp(s_of(hb, "type"), REG_TREE_HEAD_V1) != 0 &&
         strcmp(s_of(hb, "type"), REG_TREE_HEAD_V2) != 0) ||
        reg_hex32(s_of(hb, "root_hash"), root, "root", NULL) != 0 ||
        !json_is_integer(json_object_get(hb, "tree_size"))) {
        reg_problem(&b, "tree head: missing or malformed");
        rc = b.count;
        goto out;
    }
    size = (uint64_t)json_integer_value(json_object_get(hb, "tree_size"));
    if (strlen(s_of(head, "signature")) != 2 * REG_SIG_BYTES ||
        hex_decode(s_of(head, "signature"), 2 * REG_SIG_BYTES, sig, sizeof sig, &n, NULL) != 0 ||
        !reg_sig_ok(office_key, hbody, strlen(hbody), sig, sizeof sig)) {
        reg_problem(&b, "tree head %llu: not signed by the trusted office key",
                    (unsigned long long)size);
        rc = b.count;
        goto out;
    }
    /* 2. Events: included in that tree, signed by keys the tree vouches for. */
    json_array_foreach(json_object_get(bundle, "events"), i, e) {
        const char *body = s_of(e, "body");
        json_t *eb = NULL;
        struct buf canon = BUF_INIT(8 << 20);
        merkle_hash leaf;
        unsigned char pk[REG_PK_BYTES];
        struct err perr = ERR_INIT;
        json_int_t seq = json_integer_value(json_object_get(e, "seq"));
        const char *actor;
        bool ok = true;

        if (json_parse(body, strlen(body), &eb, NULL) != 0 ||
            json_canonical(eb, &canon, NULL) != 0 || canon.len != strlen(body) ||
            memcmp(canon.data, body, canon.len) != 0 ||
            json_integer_value(json_object_get(eb, "seq")) != seq) {
            reg_problem(&b, "event %lld: body malformed or not canonical", (long long)seq);
            json_decref(eb);
            buf_release(&canon);
            continue;
        }
        buf_release(&canon);
        if (strlen(s_of(e, "signature")) != 2 * REG_SIG_BYTES ||
            hex_decode(s_of(e, "signature"), 2 * REG_SIG_BYTES, sig, sizeof sig, &n, NULL) != 0) {
            reg_problem(&b, "event %lld: signature malformed", (long long)seq);
            json_decref(eb);
            continue;
        }
        merkle_event_leaf(body, strlen(body), sig, sizeof sig, leaf);
        if (seq < 0 || hex_hash_list(json_object_get(e, "inclusion_proof"), path, &n) != 0 ||
            merkle_verify_inclusion((uint64_t)seq, size, leaf, path, n, root, &perr) != 0) {
            reg_problem(&b, "event %lld: not included in the signed tree of %llu events (%s)",
                        (long long)seq, (unsigned long long)size, err_msg(&perr));
            ok = false;
        }
        actor = s_of(eb, "actor");
        if (strncmp(actor, "office:", 7) == 0) {
            memcpy(pk, office_key, REG_PK_BYTES);
        } else if (strcmp(s_of(eb, "type"), "user.add") == 0 &&
                   strcmp(s_of(json_object_get(eb, "data"), "username"), actor) == 0 &&
                   json_object_get(keys, actor) == NULL && ok) {
            /* a self-signed first admin: the key is vouched for by inclusion */
            (void)reg_hex32(s_of(json_object_get(eb, "data"), "public_key"), pk, "key", NULL);
        } else if (reg_hex32(s_of(keys, actor), pk, "key", NULL) != 0) {
            reg_problem(&b, "event %lld: signer '%s' has no included user.add event in the bundle",
                        (long long)seq, actor);
            json_decref(eb);
            continue;
        }
        if (!reg_sig_ok(pk, body, strlen(body), sig, sizeof sig)) {
            reg_problem(&b, "event %lld (%s by %s): signature invalid", (long long)seq,
                        s_of(eb, "type"), actor);
            ok = false;
        }
        if (ok) {
            if (strcmp(s_of(eb, "type"), "user.add") == 0 ||
                strcmp(s_of(eb, "type"), "user.key") == 0)
                (void)json_object_set_new(keys, s_of(json_object_get(eb, "data"), "username"),
                                          json_string(s_of(json_object_get(eb, "data"),
                                                           "public_key")));
            (void)json_array_append(verified, eb);
        }
        json_decref(eb);
    }
    /* 3. Record versions and links hash to what signed events name. */
    json_array_foreach(json_object_get(bundle, "record_versions"), i, e) {
        const char *data = s_of(e, "data");
        char h[65];
        reg_sha256_hex(data, strlen(data), h);
        if (strcmp(h, s_of(e, "hash")) != 0)
            reg_problem(&b, "record %s version %lld: data does not match its hash",
                        s_of(e, "record_id"),
                        (long long)json_integer_value(json_object_get(e, "version")));
        else if (!signed_object(verified, "record", s_of(e, "record_id"), h))
            reg_problem(&b, "record %s version %lld: no signed event names this version",
                        s_of(e, "record_id"),
                        (long long)json_integer_value(json_object_get(e, "version")));
    }
    json_array_foreach(json_object_get(bundle, "links"), i, e) {
        const char *st = s_of(e, "statement");
        json_t *sj = NULL;
        char h[65], id[160];
        unsigned char pk[REG_PK_BYTES];
        reg_sha256_hex(st, strlen(st), h);
        if (json_parse(st, strlen(st), &sj, NULL) != 0) {
            reg_problem(&b, "link %zu: statement is not JSON", i);
            continue;
        }
        (void)snprintf(id, sizeof id, "%s:%s:%lld", s_of(sj, "uin"), s_of(sj, "record_id"),
                       (long long)json_integer_value(json_object_get(sj, "record_version")));
        if (!signed_object(verified, "link", id, h))
            reg_problem(&b, "link %s: no signed event names this statement", id);
        if (reg_hex32(s_of(keys, s_of(e, "signer")), pk, "key", NULL) != 0 ||
            strlen(s_of(e, "signature")) != 2 * REG_SIG_BYTES ||
            hex_decode(s_of(e, "signature"), 2 * REG_SIG_BYTES, sig, sizeof sig, &n, NULL) != 0 ||
            !reg_sig_ok(pk, st, strlen(st), sig, sizeof sig))
            reg_problem(&b, "link %s: signature by '%s' invalid", id, s_of(e, "signer"));
        json_decref(sj);
    }
    if (json_array_size(json_object_get(bundle, "events")) == 0)
        reg_problem(&b, "bundle: no events");
    rc = b.count;
out:
    json_decref(hb);
    json_decref(keys);
    json_decref(verified);
    return rc;
}
