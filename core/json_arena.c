/* civreg core: jansson values allocated from an arena, freed in one go.
 *
 * The national push parses thousands of event bodies into jansson trees
 * (a malloc per object, string and member) and frees them after its commit
 * (a free each, json_delete's walk). A thread that has entered an arena
 * (json_arena_enter) takes every jansson allocation from it, by bumping a
 * pointer in chunks mapped of their own, and a free of that memory does
 * nothing; json_arena_release unmaps the chunks at once. Every other
 * allocation, on any thread, is malloc's and free's as before: jansson's
 * allocation functions are set once, before main, to these two, which
 * fall through to malloc and free outside an arena.
 *
 * A released chunk is kept for the next arena to take (up to ARENA_KEEP
 * bytes in all, the rest unmapped): its pages are mapped and faulted in
 * already, so a push after a push does not map, fault in (zero) and unmap
 * its trees' memory again (the kernel's page faults and unmaps of the
 * chunks were about 2% of the push's CPU). Under ASan a kept chunk's bytes
 * are poisoned until an arena takes it again. */
#include <pthread.h>
#include <sanitizer/asan_interface.h> /* no-ops unless built with ASan */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "json.h"

struct json_arena_chunk {
    struct json_arena_chunk *next;
    size_t size; /* of the mapping, this header included */
};

#define ARENA_ALIGN 16
#define ARENA_HEAD ((sizeof(struct json_arena_chunk) + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1))
#define ARENA_CHUNK (1u << 20)
#define ARENA_KEEP (64u * ARENA_CHUNK)

static _Thread_local struct json_arena *current;

/* released chunks kept for reuse, any size, KEPT_BYTES in all */
static pthread_mutex_t kept_lock = PTHREAD_MUTEX_INITIALIZER;
static struct json_arena_chunk *kept;
static size_t kept_bytes;

/* ASan's shadow of the chunk cleared first: a mapping made later at the same
 * addresses must not be found poisoned (chunk_put). */
static void chunk_unmap(struct json_arena_chunk *c)
{
    size_t size = c->size;

    ASAN_UNPOISON_MEMORY_REGION(c, size);
    (void)munmap(c, size);
}

/* A kept chunk of at least SIZE bytes (the first found), or a new mapping
 * of SIZE; NULL when none can be mapped. */
static struct json_arena_chunk *chunk_get(size_t size)
{
    struct json_arena_chunk *c = NULL, **pp;

    (void)pthread_mutex_lock(&kept_lock);
    for (pp = &kept; *pp; pp = &(*pp)->next)
        if ((*pp)->size >= size) {
            c = *pp;
            *pp = c->next;
            kept_bytes -= c->size;
            break;
        }
    (void)pthread_mutex_unlock(&kept_lock);
    if (c != NULL) {
        ASAN_UNPOISON_MEMORY_REGION(c, c->size); /* poisoned by chunk_put */
        return c;
    }
    c = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (c == MAP_FAILED)
        return NULL;
    c->size = size;
    return c;
}

/* Chunk C kept for reuse while the kept ones stay under ARENA_KEEP, else
 * unmapped. */
static void chunk_put(struct json_arena_chunk *c)
{
    (void)pthread_mutex_lock(&kept_lock);
    if (kept_bytes + c->size <= ARENA_KEEP) {
        /* its values are freed: a read of one is a use after free */
        ASAN_POISON_MEMORY_REGION((char *)c + ARENA_HEAD, c->size - ARENA_HEAD);
        c->next = kept;
        kept = c;
        kept_bytes += c->size;
        c = NULL;
    }
    (void)pthread_mutex_unlock(&kept_lock);
    if (c != NULL)
        chunk_unmap(c);
}

size_t json_arena_kept(void)
{
    size_t n;

    (void)pthread_mutex_lock(&kept_lock);
    n = kept_bytes;
    (void)pthread_mutex_unlock(&kept_lock);
    return n;
}

static bool in_chunk(const struct json_arena_chunk *c, const void *p)
{
    uintptr_t a = (uintptr_t)c, q = (uintptr_t)p;
    return q >= a && q < a + c->size;
}

static void *arena_malloc(size_t n)
{
    struct json_arena *a = current;
    struct json_arena_chunk *c;
    size_t size;
    void *p;

    if (a == NULL)
        return malloc(n);
    n = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (a->chunks != NULL && n <= a->left) {
        p = a->next;
        a->next += n;
        a->left -= n;
        ASAN_UNPOISON_MEMORY_REGION(p, n); /* poisoned by chunk_put */
        return p;
    }
    /* a new chunk: twice the last one (from 1 MiB, at most 64), or the size asked */
    size = a->chunks ? a->chunks->size * 2 : ARENA_CHUNK;
    if (size > 64u * ARENA_CHUNK)
        size = 64u * ARENA_CHUNK;
    if (size < ARENA_HEAD + n)
        size = ARENA_HEAD + n;
    if ((c = chunk_get(size)) == NULL)
        return NULL;
    c->next = a->chunks;
    a->chunks = c;
    p = (char *)c + ARENA_HEAD;
    a->next = (char *)p + n;
    a->left = c->size - ARENA_HEAD - n;
    return p;
}

static void arena_free(void *p)
{
    const struct json_arena *a = current;

    if (p == NULL)
        return;
    if (a != NULL)
        for (const struct json_arena_chunk *c = a->chunks; c; c = c->next)
            if (in_chunk(c, p))
                return; /* released with the arena */
    free(p);
}

__attribute__((constructor)) static void arena_install(void)
{
    json_set_alloc_funcs(arena_malloc, arena_free);
}

void *json_arena_alloc(size_t n)
{
    return arena_malloc(n);
}

void json_arena_enter(struct json_arena *a)
{
    current = a;
}

void json_arena_leave(void)
{
    current = NULL;
}

void json_arena_release(struct json_arena *a)
{
    struct json_arena_chunk *c = a->chunks, *next;

    for (; c; c = next) {
        next = c->next;
        chunk_put(c);
    }
    *a = (struct json_arena)JSON_ARENA_INIT;
}
