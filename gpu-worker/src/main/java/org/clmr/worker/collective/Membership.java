package org.clmr.worker.collective;

import org.clmr.protocol.Sha256;
import org.clmr.protocol.wire.FrameKey;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;

/**
 * Who takes part in one generation: fixed for its lifetime. A new generation (after a join or a loss)
 * is a new {@code Membership} and a new {@link Collective}, on new Aeron streams, under a new key.
 *
 * @param runId      the run's id ({@link #runKey(String)} of its name); frames of another run are dropped
 * @param generation the membership generation (>= 0)
 * @param rank       this process's rank, an index into {@code endpoints}
 * @param endpoints  every rank's UDP endpoint host:port in rank order (with IPC only the size counts)
 * @param frameKey   the generation's key: every frame carries a MAC under it ({@link FrameKey#NONE}: no MAC,
 *                   for {@code clmr bench allreduce --auth off} alone); {@code toString} never shows it
 */
public record Membership(long runId, long generation, int rank, List<String> endpoints, FrameKey frameKey) {
    /** Most ranks in one generation (stream ids hold a rank in 8 bits). */
    public static final int MAX_WORLD_SIZE = 256;

    public Membership {
        endpoints = List.copyOf(endpoints);
        Objects.requireNonNull(frameKey, "frameKey (FrameKey.NONE for no MAC)");
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

    /** Aeron frames carry the run as a number: a stable, non-negative 64-bit key of the run's name (SHA-256). */
    public static long runKey(String runId) {
        byte[] name = runId.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.wrap(Sha256.digest(name, 0, name.length)).getLong() & Long.MAX_VALUE;
    }
}
