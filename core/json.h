/* civreg core: helpers over jansson (thread-safe, exact integers).
 *
 * Ownership follows jansson: functions that return json_t * hand over a new
 * reference the caller json_decref()s; borrowed references are marked.
 */
#ifndef CIVREG_CORE_JSON_H
#define CIVREG_CORE_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "err.h"

/* The deepest nesting of arrays and objects json_parse accepts. jansson's
 * parser recurses once per level (several stack frames each): about 950
 * levels overflow a CivetWeb worker thread's stack, so a 2 KB request of
 * brackets would kill the server. No document civreg reads or writes nests
 * deeper than about 8 levels. */
#define JSON_MAX_DEPTH 64

/* Parse LEN bytes as one JSON value, rejecting duplicate keys, invalid
 * UTF-8 and nesting deeper than JSON_MAX_DEPTH (refused by json_check_depth
 * before the recursive parser runs). *OUT is a new reference. The message
 * names line and column. */
int json_parse(const char *s, size_t len, json_t **out, struct err *err)
    __attribute__((warn_unused_result));

/* A streaming pre-scan of LEN bytes: fails when arrays and objects nest
 * deeper than MAX_DEPTH. Brackets inside strings (with their backslash
 * escapes) do not count; nothing else is validated (the parser does that).
 * Uses constant stack whatever the input. */
int json_check_depth(const char *s, size_t len, size_t max_depth, struct err *err)
    __attribute__((warn_unused_result));

/* Read the file PATH (at most MAX bytes) and json_parse it. Messages start
 * with PATH. */
int json_parse_file(const char *path, size_t max, json_t **out, struct err *err)
    __attribute__((warn_unused_result));

/* Read a string member. When absent or null: -1 if REQUIRED, else 0 with
 * *OUT = NULL. A present member of another type is an error. *OUT is borrowed
 * from OBJ. */
int json_get_string(const json_t *obj, const char *key, bool required, const char **out,
                    struct err *err) __attribute__((warn_unused_result));

/* Read an integer member (same rules); *PRESENT (may be NULL) tells whether it
 * was there. */
int json_get_int(const json_t *obj, const char *key, bool required, json_int_t *out,
                 bool *present, struct err *err) __attribute__((warn_unused_result));

/* Read a boolean member (same rules; absent = DEFLT when not required). */
int json_get_bool(const json_t *obj, const char *key, bool required, bool deflt, bool *out,
                  struct err *err) __attribute__((warn_unused_result));

/* Fail naming the first member of OBJ whose key is not in ALLOWED (a
 * NULL-terminated list). Catches typos in input documents. */
int json_check_keys(const json_t *obj, const char *const *allowed, struct err *err)
    __attribute__((warn_unused_result));

/* Append the RFC 8785 (JCS) canonical form of V to OUT: object members sorted
 * by their UTF-16 code units, no white space, minimal string escapes. Numbers
 * must be integers (civreg signs no floating-point values); a real is an
 * error. */
int json_canonical(const json_t *v, struct buf *out, struct err *err)
    __attribute__((warn_unused_result));

/* TEXT[0, LEN) read as a JSON object in one pass, checking that it is the
 * canonical form (json_canonical) of the value it parses to, for the common
 * case only (no escapes, ASCII member names, integers under 10^15, nesting
 * up to 32): 0 with *OUT the value (the caller's), or -1 with *OUT NULL when
 * the text is not canonical or not of that case (json_canon.c). What it
 * accepts, json_parse accepts with an equal value. json_parse tries it
 * first. */
int json_read_canonical(const char *text, size_t len, json_t **out)
    __attribute__((warn_unused_result));

/* A member wanted from a text json_read_canonical_pick reads: PATH the
 * names leading to it from the top object, joined by '/' ("data/link");
 * AT, LEN its value's bytes in the text (AT NULL when absent). The text
 * being canonical, they are the value's canonical form. */
struct json_pick {
    const char *path;
    const char *at;
    size_t len;
};

/* json_read_canonical that also sets each of PICKS[0, NPICKS) (all NULL
 * when it returns -1), and builds nothing when OUT is NULL: the same
 * checks and verdict, for a caller that needs a few members only. */
int json_read_canonical_pick(const char *text, size_t len, json_t **out,
                             struct json_pick *picks, size_t npicks)
    __attribute__((warn_unused_result));

/* The contents of the string P picked (no escapes in a text the reader
 * accepts): true with *S, *LEN, or false when P is absent or not a string. */
bool json_pick_string(const struct json_pick *p, const char **s, size_t *len);

/* Parse LEN bytes at S like json_parse (0, or -1 with the message in ERR)
 * and tell in *CANONICAL whether S is byte for byte the canonical form
 * (json_canonical) of the value: in one pass when json_read_canonical
 * accepts S, else by writing the canonical form out and comparing. */
int json_parse_canonical(const char *s, size_t len, json_t **out, bool *canonical,
                         struct err *err) __attribute__((warn_unused_result));

/* An arena jansson values are allocated from (json_arena.c): between
 * json_arena_enter(A) and json_arena_leave() on a thread, every jansson
 * value that thread makes (json_parse, json_object, json_string...) is
 * taken from A, and freeing it (json_decref) does nothing;
 * json_arena_release(A) frees them all at once. The values of A must not
 * be freed, changed or kept by another thread, nor used after the release.
 * Everything else is allocated and freed by malloc and free as before. */
struct json_arena_chunk;
struct json_arena {
    struct json_arena_chunk *chunks; /* the newest first */
    char *next;                      /* in the newest chunk */
    size_t left;
};
#define JSON_ARENA_INIT { NULL, NULL, 0 }
void json_arena_enter(struct json_arena *a);
void json_arena_leave(void);
void json_arena_release(struct json_arena *a);
/* The bytes of released chunks kept for the next arenas (at most 64 MiB in
 * all, the rest unmapped on release). */
size_t json_arena_kept(void);
/* N bytes taken as jansson's values are: from the arena this thread has
 * entered (freed with it, never by free), else from malloc (the caller
 * frees them). NULL when out of memory. For bytes that live and die with
 * an arena's values. */
void *json_arena_alloc(size_t n);

/* An object's canonical form written member by member, for a caller that
 * knows its keys: append '{', then each member (a comma before all but the
 * first), then '}'. The caller gives the members in RFC 8785 order (keys
 * sorted by UTF-16 code units, each once); the bytes are then those
 * json_canonical gives for the same object, and the same values fail: a
 * string that is NULL or not valid UTF-8 (as json_string), an integer
 * beyond 2^53, a real, nesting deeper than 64 levels counting the object. */
int json_canonical_member_string(struct buf *out, const char *key, const char *s,
                                 struct err *err) __attribute__((warn_unused_result));
int json_canonical_member_integer(struct buf *out, const char *key, json_int_t n,
                                  struct err *err) __attribute__((warn_unused_result));
int json_canonical_member_value(struct buf *out, const char *key, const json_t *v,
                                struct err *err) __attribute__((warn_unused_result));

/* Append V to OUT in jansson's compact form (key order preserved). */
int json_dump_compact(const json_t *v, struct buf *out, struct err *err)
    __attribute__((warn_unused_result));

/* Like json_dump_compact, but every character outside ASCII is written as a
 * \uXXXX escape (surrogate pairs beyond the BMP): for channels such as QR
 * codes whose readers guess the character set of 8-bit data. */
int json_dump_ascii(const json_t *v, struct buf *out, struct err *err)
    __attribute__((warn_unused_result));

/* Hand V (a new reference, e.g. from json_pack) to *OUT. A NULL V is the
 * allocation failure it means: err_oom, -1, *OUT untouched. Lets a builder
 * end with `return json_out(out, json_pack(...), err);`. */
int json_out(json_t **out, json_t *v, struct err *err) __attribute__((warn_unused_result));

#endif
