package org.clmr.protocol.checkpoint;

/** A stored checkpoint whose bytes are not what was written (size or SHA-256 differ), or are unreadable. */
public final class CheckpointCorruptException extends RuntimeException {
    public CheckpointCorruptException(String message) {
        super(message);
    }
}
