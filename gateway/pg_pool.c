#include "gateway/pg_pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/p2p_log.h"

#define POOL_MAX 64

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t freed = PTHREAD_COND_INITIALIZER;
static PGconn *idle[POOL_MAX]; /* NULL slot = not yet connected */
static int nidle, capacity;
static char *conninfo_copy;

int pg_pool_start(const char *conninfo, int size)
{
    if (size < 1 || size > POOL_MAX || !(conninfo_copy = strdup(conninfo)))
        return -1;
    capacity = nidle = size;
    memset(idle, 0, sizeof idle);
    return 0;
}

void pg_pool_stop(void)
{
    pthread_mutex_lock(&lock);
    for (int i = 0; i < nidle; i++)
        PQfinish(idle[i]);
    nidle = 0;
    free(conninfo_copy);
    conninfo_copy = NULL;
    pthread_mutex_unlock(&lock);
}

PGconn *pg_pool_get(int timeout_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&lock);
    while (nidle == 0)
        if (pthread_cond_timedwait(&freed, &lock, &until) == ETIMEDOUT) {
            pthread_mutex_unlock(&lock);
            return NULL;
        }
    PGconn *db = idle[--nidle];
    pthread_mutex_unlock(&lock);
    if (!db || PQstatus(db) != CONNECTION_OK) {
        if (db)
            PQreset(db);
        else
            db = PQconnectdb(conninfo_copy);
        if (!db || PQstatus(db) != CONNECTION_OK) {
            p2p_log(P2P_WARN, "postgres_unavailable", "%s", db ? PQerrorMessage(db) : "out of memory");
            pg_pool_put(db); /* give the slot back: a later borrower retries */
            return NULL;
        }
    }
    return db;
}

void pg_pool_put(PGconn *db)
{
    pthread_mutex_lock(&lock);
    if (nidle < capacity)
        idle[nidle++] = db;
    else
        PQfinish(db);
    pthread_cond_signal(&freed);
    pthread_mutex_unlock(&lock);
}
