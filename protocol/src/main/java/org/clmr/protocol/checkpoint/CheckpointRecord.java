package org.clmr.protocol.checkpoint;

import org.clmr.protocol.CborSerializable;

import java.time.Instant;

/**
 * What a {@link CheckpointStore} knows of one stored, verified checkpoint.
 *
 * @param runId       the run it belongs to
 * @param step        global step the weights are after (steps completed)
 * @param epoch       epoch of that step
 * @param generation  membership generation that wrote it
 * @param sizeBytes   payload size
 * @param sha256      SHA-256 (hex) of the payload
 * @param createdAt   when it was written
 * @param runSpecHash hash of the RunSpec it was trained under
 * @param location    where the store keeps it (a file path, or {@code jdbc:table#id})
 */
public record CheckpointRecord(String runId, long step, int epoch, long generation, long sizeBytes, String sha256,
                               Instant createdAt, String runSpecHash, String location) implements CborSerializable {
}
