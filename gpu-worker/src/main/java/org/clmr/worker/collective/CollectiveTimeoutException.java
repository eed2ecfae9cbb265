package org.clmr.worker.collective;

import java.util.List;

/** An operation's deadline passed; names the ranks not heard from so the worker can report them. */
public final class CollectiveTimeoutException extends CollectiveException {
    private final List<Integer> silentRanks;

    public CollectiveTimeoutException(OpTag tag, List<Integer> silentRanks, long timeoutMillis) {
        super("collective " + tag + " timed out after " + timeoutMillis + " ms waiting for rank(s) " + silentRanks);
        this.silentRanks = List.copyOf(silentRanks);
    }

    /**
     * A failure that names the ranks responsible in its own words: a peer whose connection was lost
     * before the deadline, or peers that never connected to a new generation.
     */
    public CollectiveTimeoutException(String message, List<Integer> silentRanks) {
        super(message);
        this.silentRanks = List.copyOf(silentRanks);
    }

    /** The ranks whose data did not arrive. */
    public List<Integer> silentRanks() {
        return silentRanks;
    }
}
