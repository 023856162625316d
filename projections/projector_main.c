/* The live projector: keeps the read models (the projections/..._projection.c modules) up
 * to date with every engine output topic, exactly once (projections/projector.h
 * says how). Batches of up to 2,000 events, or what arrived within 5 ms, each
 * in one transaction. If PostgreSQL fails mid-batch the transaction is rolled
 * back, the consumer rewinds to the stored offsets and the batch is retried
 * after a pause. SIGTERM/SIGINT stop it after the current batch. */
#include <signal.h>

#include "common/p2p_config.h"
#include "common/p2p_log.h"
#include "projections/projector.h"

static volatile sig_atomic_t running = 1;
static void on_signal(int sig) { (void)sig; running = 0; }

int main(void)
{
    static struct projector p;
    char err[512];
    p2p_log_init("projector");
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    if (p2p_config_load(&p.cfg, err, sizeof err)) {
        p2p_log(P2P_ERROR, "bad_config", "%s", err);
        return 1;
    }
    /* A batch's events become visible at its commit, so the time a batch
     * collects is latency every event of it pays: 5 ms. Under a backlog the
     * polls return at once and batches fill up to 2,000 events; a commit is
     * cheap (no WAL flush wait, see projector.c), but each batch costs round
     * trips that wait for the CPU on a loaded machine: with 500, the read
     * model fell ~14 s behind in 20 s of 1,000 orders/s (./p2p bench e2e),
     * with 2,000 ~3 s. */
    p.batch_max = 2000;
    p.batch_ms = 5;
    p.running = &running;
    if (projector_start(&p))
        return 1;
    p2p_log(P2P_INFO, "projector_started", "projecting %s* into PostgreSQL", p.cfg.topic_prefix);
    while (running)
        projector_run_batch(&p);
    projector_stop(&p);
    p2p_log(P2P_INFO, "projector_stopped", "applied %llu events", (unsigned long long)p.applied);
    return 0;
}
