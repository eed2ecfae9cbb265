package org.clmr.worker.collective;

/** A collective operation that could not complete: a peer silent past the deadline, a corrupt frame, a closed transport. */
public class CollectiveException extends RuntimeException {
    public CollectiveException(String message) {
        super(message);
    }

    public CollectiveException(String message, Throwable cause) {
        super(message, cause);
    }
}
