package org.clmr.protocol.cluster;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The checks of the values an operator's request carries into the coordinator ({@code POST /control/start},
 * {@code /control/drain}): they come from outside the cluster, so each is checked before anything is asked of the
 * coordinator, and a bad one is refused with one line saying what is allowed. The line never repeats the value (a
 * newline in it would otherwise forge a log line). Stateless; any thread.
 */
public final class ControlInput {
    /** What a run id may be: it names log lines, metrics, checkpoint rows and directories. */
    public static final Pattern RUN_ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    /** What a dataset's content hash may be (a SHA-256 is 64 hex digits). */
    public static final Pattern DATASET_HASH = Pattern.compile("[0-9A-Za-z]{1,128}");
    /** What a worker id may be: printable ASCII without spaces ({@code HOST/DEVICE/PID}). */
    public static final Pattern WORKER_ID = Pattern.compile("[\\x21-\\x7e]{1,255}");
    /** The most tracks a run's dataset may declare (a dataset index counts its tracks in an int). */
    public static final long MAX_TRACKS = Integer.MAX_VALUE;

    private ControlInput() {
    }

    /** Why {@code runId} is not a run id, if it is not. */
    public static Optional<String> runIdProblem(String runId) {
        return matches(RUN_ID, runId) ? Optional.empty() : Optional.of("run-id must be 1 to 64 letters, digits, '.', '_'"
                + " or '-' (" + RUN_ID.pattern() + ")");
    }

    /** Why {@code hash} is not a dataset hash, if it is not. */
    public static Optional<String> datasetHashProblem(String hash) {
        return matches(DATASET_HASH, hash) ? Optional.empty() : Optional.of("dataset-hash must be 1 to 128 letters or"
                + " digits (the packed dataset's content hash; `clmr control start --dataset DIR` reads it)");
    }

    /** Why {@code workerId} is not a worker id, if it is not. */
    public static Optional<String> workerIdProblem(String workerId) {
        return matches(WORKER_ID, workerId) ? Optional.empty() : Optional.of("worker must be 1 to 255 printable"
                + " characters without spaces (an id `clmr status` lists, HOST/DEVICE/PID)");
    }

    /**
     * The track count in {@code raw}, from 1 to {@value #MAX_TRACKS}.
     *
     * @throws IllegalArgumentException with the one line to answer when it is not such a number
     */
    public static long tracks(String raw) {
        String why = "tracks must be an integer from 1 to " + MAX_TRACKS + " (the tracks of the run's dataset)";
        if (raw == null || raw.isEmpty() || raw.length() > 19) {
            throw new IllegalArgumentException(why);
        }
        try {
            long n = Long.parseLong(raw);
            if (n < 1 || n > MAX_TRACKS) {
                throw new IllegalArgumentException(why);
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(why);
        }
    }

    /**
     * {@code value} quoted for an error line, when it is safe to repeat there (1 to 64 printable ASCII characters
     * without quotes or backslashes); otherwise a description that does not repeat it, so that a request can put
     * neither line breaks nor anything else into a log line or an answer.
     */
    public static String quoted(String value) {
        return value != null && SHOWABLE.matcher(value).matches() ? "'" + value + "'"
                : "(a value of " + (value == null ? 0 : value.length()) + " characters not shown)";
    }

    private static final Pattern SHOWABLE = Pattern.compile("[\\x20-\\x7e&&[^'\"\\\\]]{1,64}");

    private static boolean matches(Pattern p, String value) {
        return value != null && p.matcher(value).matches();
    }
}
