package org.clmr.coordinator.checkpoint;

import org.clmr.protocol.checkpoint.CheckpointCorruptException;
import org.clmr.protocol.checkpoint.CheckpointRecord;
import org.clmr.protocol.checkpoint.CheckpointStore;

/** The coordinator's check of a checkpoint that rank 0 reports written; blocking (Akka's blocking dispatcher). */
public final class CheckpointVerifier {
    private CheckpointVerifier() {
    }

    /**
     * Reads a written checkpoint back from the store: the run and spec must match, the stored record's
     * size and SHA-256 must equal the reported ones, and the payload must hash to them.
     */
    public static CheckpointRecord verify(CheckpointStore store, CheckpointRecord claimed, String runId, String specHash) {
        if (!claimed.runId().equals(runId)) {
            throw new CheckpointCorruptException("checkpoint " + claimed.location() + " is of run " + claimed.runId()
                    + ", expected " + runId);
        }
        if (!claimed.runSpecHash().equals(specHash)) {
            throw new CheckpointCorruptException("checkpoint " + claimed.location() + " has RunSpec hash "
                    + claimed.runSpecHash() + ", the run's is " + specHash);
        }
        CheckpointRecord stored = store.find(runId, claimed.step()).orElseThrow(() -> new CheckpointCorruptException(
                "checkpoint of step " + claimed.step() + " is not in the store (" + claimed.location() + ")"));
        if (stored.sizeBytes() != claimed.sizeBytes() || !stored.sha256().equals(claimed.sha256())) {
            throw new CheckpointCorruptException("checkpoint " + claimed.location() + ": reported "
                    + claimed.sizeBytes() + " bytes sha256=" + claimed.sha256() + ", stored " + stored.sizeBytes()
                    + " bytes sha256=" + stored.sha256());
        }
        store.read(claimed);
        return claimed;
    }
}
