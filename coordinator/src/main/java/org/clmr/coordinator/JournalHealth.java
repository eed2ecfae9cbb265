package org.clmr.coordinator;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * Whether the coordinator's journal could be written. A persist that fails (a full disk, a database that refuses
 * writes) restarts the event-sourced behavior, which recovers from the journal; the coordinator then finds the
 * events it had in flight unwritten and records it here. The run is paused in memory, since no event can be
 * persisted to say so: {@code clmr status}, the metrics and an alert show why, the members wait at their plan
 * boundaries, and the journal is tried again after a back-off, or at once on {@code clmr control resume}. Kept by
 * the coordinator node across incarnations. Thread-safe (the coordinator writes, the metrics read).
 */
public final class JournalHealth {
    /** The first retry's delay; each failure in a row doubles it, up to {@link #MAX_RETRY}. */
    static final Duration FIRST_RETRY = Duration.ofSeconds(15);
    /** The longest delay between retries. */
    static final Duration MAX_RETRY = Duration.ofMinutes(5);
    /** Below this much free space, the journal's file system is named as the likely cause. */
    private static final long LOW_SPACE_BYTES = 64L << 20;

    /**
     * The last failure.
     *
     * @param reason  what was not written, and the likely cause
     * @param at      when it was found
     * @param inARow  failures since the journal was last written
     */
    public record Failure(String reason, Instant at, int inARow) {
        /** How long to wait before the journal is tried again. */
        public Duration retryIn() {
            return backoff(inARow);
        }

        /** The one line {@code clmr status} and refused operators get. */
        public String why() {
            return "the journal could not be written at " + at + " (" + reason + "); the run is paused: free space"
                    + " (or fix the database), then `clmr control resume`";
        }
    }

    private final Path journalDirectory;
    private Failure failure;
    private long total;
    private boolean retrying;

    /** Health of a journal whose storage this process cannot inspect (a database server). */
    public JournalHealth() {
        this(null);
    }

    /** Health of a journal in files under {@code journalDirectory} (the run directory's H2 database). */
    public JournalHealth(Path journalDirectory) {
        this.journalDirectory = journalDirectory;
    }

    /** Persisting {@code what} failed; the run pauses until a retry writes the journal. */
    public synchronized void failed(String what, Instant at) {
        total++;
        failure = new Failure(what + diagnosis(), at, failure == null ? 1 : failure.inARow() + 1);
        retrying = false;
    }

    /** The failure the run is paused for, unless a retry is under way or the journal was written since. */
    public synchronized Optional<Failure> pausing() {
        return retrying ? Optional.empty() : Optional.ofNullable(failure);
    }

    /** A retry starts: persists are tried again; one that succeeds ends the failure. */
    public synchronized void retry() {
        retrying = true;
    }

    /** An event was persisted: the journal is healthy again. */
    public synchronized void written() {
        failure = null;
        retrying = false;
    }

    /** Persists that failed since the node started. */
    public synchronized long failures() {
        return total;
    }

    /** Bytes free on the journal's file system, or -1 where that is not known (a database server). */
    public long freeBytes() {
        if (journalDirectory == null) {
            return -1;
        }
        try {
            return Files.getFileStore(journalDirectory).getUsableSpace();
        } catch (IOException e) {
            return -1;
        }
    }

    /** How long to wait before trying the journal again after {@code inARow} failures. */
    static Duration backoff(int inARow) {
        Duration d = FIRST_RETRY.multipliedBy(1L << Math.min(10, Math.max(0, inARow - 1)));
        return d.compareTo(MAX_RETRY) > 0 ? MAX_RETRY : d;
    }

    /** The journal's file system when it is nearly full (the usual cause), else where the database's error is. */
    private String diagnosis() {
        if (journalDirectory != null) {
            try {
                long free = Files.getFileStore(journalDirectory).getUsableSpace();
                if (free < LOW_SPACE_BYTES) {
                    return ": the file system of " + journalDirectory + " has " + (free >> 10) + " KiB free";
                }
            } catch (IOException e) {
                return ": " + journalDirectory + " cannot be inspected (" + e.getMessage() + ")";
            }
        }
        return "; the database's error is in the coordinator's log";
    }
}
