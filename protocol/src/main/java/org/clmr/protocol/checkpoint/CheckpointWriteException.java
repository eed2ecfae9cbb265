package org.clmr.protocol.checkpoint;

/**
 * A checkpoint could not be stored (a full disk, a database that refuses the write, a lost connection): nothing
 * of it is left in the store, and the checkpoints stored before are unchanged. Its message is one line: what,
 * where, and the store's own reason.
 */
public final class CheckpointWriteException extends RuntimeException {
    public CheckpointWriteException(String message, Throwable cause) {
        super(CheckpointCorruptException.oneLine(message), cause);
    }
}
