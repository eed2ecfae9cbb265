package org.clmr.worker.collective;

import java.util.List;

/**
 * Who takes part in one generation: fixed for its lifetime. A new generation (after a join or a loss)
 * is a new {@code Membership} and a new {@link Collective}, on new Aeron streams.
 *
 * @param runId      the run's id; frames of another run are dropped
 * @param generation the membership generation (>= 0)
 * @param rank       this process's rank, an index into {@code endpoints}
 * @param endpoints  every rank's UDP endpoint host:port in rank order (with IPC only the size counts)
 */
public record Membership(long runId, long generation, int rank, List<String> endpoints) {
    /** Most ranks in one generation (stream ids hold a rank in 8 bits). */
    public static final int MAX_WORLD_SIZE = 256;

    public Membership {
        endpoints = List.copyOf(endpoints);
        if (generation < 0) {
            throw new IllegalArgumentException("generation must be >= 0, got " + generation);
        }
        if (endpoints.isEmpty() || endpoints.size() > MAX_WORLD_SIZE) {
            throw new IllegalArgumentException("world size must be in [1, " + MAX_WORLD_SIZE + "], got " + endpoints.size());
        }
        if (rank < 0 || rank >= endpoints.size()) {
            throw new IllegalArgumentException("rank " + rank + " outside [0, " + endpoints.size() + ")");
        }
    }

    /** Number of ranks. */
    public int worldSize() {
        return endpoints.size();
    }
}
