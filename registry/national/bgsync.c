/* civreg national tier: background sync from `civreg serve`.
 *
 * One thread with its own SQLite connection: every POLL it compares the
 * district log's size with what the national tier accepted last and pushes
 * when the log grew (new events reach the nation within seconds), and
 * every INTERVAL it pushes anyway (the UIN block top-up, an answer lost).
 * After each push it receives the deaths registered in every other office
 * (as `civreg sync deaths` does): once synced, a death anywhere refuses
 * issuance here without anyone running a command.
 * A failure (national tier down, refused push) backs off exponentially up
 * to BACKOFF_MAX. The web workers never wait for it: they share nothing
 * with it but the database file (WAL: a reader does not block a writer).
 * Its state is written atomically to STATUS_PATH (JSON) after every
 * attempt; `civreg sync status` prints it. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/json.h"
#include "core/log.h"
#include "db/datadir.h"
#include "national_int.h"

#define BGSYNC_BACKOFF_MIN 2
#define BGSYNC_BACKOFF_MAX 300

struct national_bgsync {
    struct national_bgsync_opts o;
    char *url, *ca, *status_path;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stop, kicked, started;
    /* the state the status file shows */
    uint64_t local_size, national_size, pushed_total, attempts, failures;
    unsigned consecutive;
    time_t last_attempt, last_success, next_attempt;
    uint64_t uins_unused, uins_total, deaths_received;
    char last_error[512];
};

static void iso(time_t t, char out[32])
{
    struct tm tm;
    if (t == 0 || gmtime_r(&t, &tm) == NULL) {
        out[0] = '\0';
        return;
    }
    (void)strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Write the status JSON atomically (a temporary file renamed). Called
 * with the lock held. */
static void status_write(struct national_bgsync *s)
{
    char a[32], b[32], n[32], tmp[4200];
    struct buf out = BUF_INIT(1 << 16);
    json_t *j;
    FILE *f;

    iso(s->last_attempt, a);
    iso(s->last_success, b);
    iso(s->next_attempt, n);
    j = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:s?, s:s?, s:s?, s:s?, s:I, s:I, s:I}",
                  "national", s->url, "state",
                  s->consecutive ? "backing off" : s->last_success ? "in sync" : "starting",
                  "local_size", (json_int_t)s->local_size, "national_size",
                  (json_int_t)s->national_size, "pushed_events", (json_int_t)s->pushed_total,
                  "attempts", (json_int_t)s->attempts, "failures", (json_int_t)s->failures,
                  "last_attempt", a[0] ? a : NULL, "last_success", b[0] ? b : NULL,
                  "next_attempt", n[0] ? n : NULL, "last_error",
                  s->last_error[0] ? s->last_error : NULL, "uins_unused",
                  (json_int_t)s->uins_unused, "uins_total", (json_int_t)s->uins_total,
                  "deaths_received", (json_int_t)s->deaths_received);
    if (j == NULL || json_dump_compact(j, &out, NULL) != 0)
        goto out;
    if (snprintf(tmp, sizeof tmp, "%s.tmp", s->status_path) >= (int)sizeof tmp)
        goto out;
    if ((f = fopen(tmp, "w")) == NULL)
        goto out;
    if (fwrite(out.data, 1, out.len, f) != out.len || fputc('\n', f) == EOF) {
        fclose(f);
        goto out;
    }
    if (fclose(f) == 0)
        (void)rename(tmp, s->status_path);
out:
    json_decref(j);
    buf_release(&out);
}

/* One sync: push what the national tier lacks, top up the UIN block, then
 * receive the deaths of the other offices (*DEATHS: how many). */
static int sync_once(struct national_bgsync *s, struct db *db, struct national_push_stats *st,
                     long *deaths, struct err *err)
{
    struct national_client *c = NULL;
    int got = 0, rc = -1;

    memset(st, 0, sizeof *st);
    *deaths = 0;
    if (national_client_open(s->url, s->ca, s->o.timeout_s, db, s->o.keys_dir, &c, err) != 0 ||
        national_sync_push(c, db, 0, st, err) != 0 ||
        national_uin_topup(c, db, s->o.uin_low, s->o.uin_block, &got, err) != 0 ||
        national_sync_deaths(c, db, deaths, err) != 0)
        goto out;
    if (got > 0)
        log_info("sync: received a block of %d national UINs", got);
    if (*deaths > 0)
        log_info("sync: received %ld death%s registered in other offices", *deaths,
                 *deaths == 1 ? "" : "s");
    rc = 0;
out:
    national_client_free(c);
    return rc;
}

static void *run(void *arg)
{
    struct national_bgsync *s = arg;
    struct db *db = NULL;
    struct err err = ERR_INIT;
    time_t next_periodic = 0;
    uint64_t pushed_to = 0;
    bool known = false;

    if (datadir_db_open(s->o.dd, 0, &db, &err) != 0) {
        log_error("sync: background sync stops: %s", err_msg(&err));
        pthread_mutex_lock(&s->lock);
        (void)snprintf(s->last_error, sizeof s->last_error, "%s", err_msg(&err));
        status_write(s);
        pthread_mutex_unlock(&s->lock);
        return NULL;
    }
    pthread_mutex_lock(&s->lock);
    while (!s->stop) {
        time_t now = time(NULL);
        uint64_t local = 0;
        bool due;
        struct timespec until;

        err_clear(&err);
        if (reg_log_size(db, &local, &err) == 0)
            s->local_size = local;
        due = s->kicked || now >= next_periodic || !known || local != pushed_to;
        if (due && now >= s->next_attempt) {
            struct national_push_stats st;
            uint64_t unused = 0, total = 0;
            long deaths = 0;
            int rc;
            s->kicked = false;
            s->attempts++;
            s->last_attempt = now;
            pthread_mutex_unlock(&s->lock);
            err_clear(&err);
            rc = sync_once(s, db, &st, &deaths, &err);
            if (national_uin_pool_count(db, &unused, &total, NULL) != 0)
                unused = total = 0;
            pthread_mutex_lock(&s->lock);
            s->uins_unused = unused, s->uins_total = total;
            s->deaths_received += (uint64_t)deaths;
            now = time(NULL);
            if (rc == 0) {
                s->national_size = st.to;
                s->pushed_total += st.to - st.from;
                s->last_success = now;
                s->consecutive = 0;
                s->next_attempt = 0;
                s->last_error[0] = '\0';
                pushed_to = st.to;
                known = true;
                next_periodic = now + (time_t)s->o.interval_s;
                if (st.to > st.from)
                    log_info("sync: pushed %llu events, the national tier holds %llu",
                             (unsigned long long)(st.to - st.from), (unsigned long long)st.to);
            } else {
                unsigned shift = s->consecutive < 8 ? s->consecutive : 8;
                time_t wait = (time_t)BGSYNC_BACKOFF_MIN << shift;
                if (wait > BGSYNC_BACKOFF_MAX)
                    wait = BGSYNC_BACKOFF_MAX;
                s->failures++;
                s->consecutive++;
                s->next_attempt = now + wait;
                (void)snprintf(s->last_error, sizeof s->last_error, "%s", err_msg(&err));
                log_warn("sync: %s (next attempt in %lld s)", err_msg(&err), (long long)wait);
            }
            status_write(s);
            continue;
        }
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += (long)s->o.poll_ms * 1000000L;
        while (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        (void)pthread_cond_timedwait(&s->wake, &s->lock, &until);
    }
    pthread_mutex_unlock(&s->lock);
    db_close(db);
    return NULL;
}

int national_bgsync_start(const struct national_bgsync_opts *o, struct national_bgsync **out,
                          struct err *err)
{
    struct national_bgsync *s;
    struct national_client probe;
    sigset_t all, old;
    bool created;

    *out = NULL;
    memset(&probe, 0, sizeof probe);
    /* a bad URL is refused at start-up, not retried forever */
    if (o->url == NULL || o->dd == NULL || o->status_path == NULL)
        return err_set(err, "sync: background sync needs a national URL and a data directory");
    if (nat_parse_url(&probe, o->url, err) != 0)
        return -1;
    if ((s = calloc(1, sizeof *s)) == NULL)
        return err_set(err, "out of memory");
    s->o = *o;
    if (s->o.interval_s == 0)
        s->o.interval_s = NATIONAL_SYNC_INTERVAL;
    if (s->o.poll_ms == 0)
        s->o.poll_ms = 1000;
    if (s->o.uin_low == 0)
        s->o.uin_low = NATIONAL_UIN_LOW;
    if (s->o.uin_block == 0)
        s->o.uin_block = NATIONAL_UIN_BLOCK;
    s->url = strdup(o->url);
    s->ca = o->ca ? strdup(o->ca) : NULL;
    s->status_path = strdup(o->status_path);
    if (s->url == NULL || s->status_path == NULL || (o->ca && s->ca == NULL)) {
        national_bgsync_stop(s);
        return err_set(err, "out of memory");
    }
    s->o.url = s->url, s->o.ca = s->ca, s->o.status_path = s->status_path;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->wake, NULL);
    /* the thread takes no signal: the server's sigwait gets SIGINT/SIGTERM */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    created = pthread_create(&s->thread, NULL, run, s) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!created) {
        pthread_mutex_destroy(&s->lock);
        pthread_cond_destroy(&s->wake);
        national_bgsync_stop(s); /* not started: frees */
        return err_set(err, "sync: cannot start the background sync thread");
    }
    s->started = true;
    *out = s;
    return 0;
}

/* Raise FLAG of S (kicked: sync now; stop: end) and wake its thread. */
static void bgsync_signal(struct national_bgsync *s, bool *flag)
{
    pthread_mutex_lock(&s->lock);
    *flag = true;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
}

void national_bgsync_kick(struct national_bgsync *s)
{
    if (s != NULL)
        bgsync_signal(s, &s->kicked);
}

void national_bgsync_stop(struct national_bgsync *s)
{
    if (s == NULL)
        return;
    if (s->started) {
        bgsync_signal(s, &s->stop);
        pthread_join(s->thread, NULL);
        pthread_mutex_destroy(&s->lock);
        pthread_cond_destroy(&s->wake);
    }
    free(s->url);
    free(s->ca);
    free(s->status_path);
    free(s);
}
