package org.clmr.protocol.steplog;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One row of a run's per-step training log ({@link StepLog}): what one global step did. In a cluster the
 * coordinator writes it from the members' progress reports (phase times are their mean, throughput their sum);
 * {@code clmr train} writes it from its own step.
 *
 * @param step             steps completed after it (1 for the first step of a run)
 * @param epoch            its epoch
 * @param loss             the global NT-Xent loss (NaN when it was not finite)
 * @param samplesPerSecond tracks of the global batch per second of the step's wall time, over all workers
 * @param generation       the membership generation it ran in (0 in a single process)
 * @param members          members of that generation (1 in a single process)
 * @param phases           where the step's time went, in milliseconds
 * @param time             when it was heard of (the coordinator's clock) or finished (a single process)
 * @param workers          each reporting worker's own tracks per second, by worker id (empty in a single
 *                         process); a worker id never holds {@code ;} or {@code =} in the file (they read as {@code _})
 */
public record StepRow(long step, int epoch, double loss, double samplesPerSecond, long generation, int members,
                      Phases phases, Instant time, Map<String, Double> workers) {

    /** The header line; the column order is the file format. */
    public static final String HEADER = "step,epoch,loss,samples_per_s,generation,members,data_ms,forward_ms,loss_ms,"
            + "communication_ms,backward_ms,optimizer_ms,step_ms,data_wait_share,time,worker_samples_per_s";
    private static final int COLUMNS = HEADER.split(",").length;

    public StepRow {
        workers = Collections.unmodifiableMap(new LinkedHashMap<>(workers));
    }

    /**
     * A step's time by phase, in milliseconds.
     *
     * @param dataMs reading and augmenting the batch (waiting for it when a pipeline prefetches)
     * @param stepMs the whole step's wall time, the data included
     */
    public record Phases(double dataMs, double forwardMs, double lossMs, double communicationMs, double backwardMs,
                         double optimizerMs, double stepMs) {

        /** The share of the step spent on data, in [0, 1] (0 for a step of no measured time). */
        public double dataWaitShare() {
            return stepMs > 0 ? Math.min(1.0, dataMs / stepMs) : 0.0;
        }

        /** Phases from nanoseconds. */
        public static Phases ofNanos(long dataNs, long forwardNs, long lossNs, long communicationNs, long backwardNs,
                                     long optimizerNs, long stepNs) {
            return new Phases(dataNs / 1e6, forwardNs / 1e6, lossNs / 1e6, communicationNs / 1e6, backwardNs / 1e6,
                    optimizerNs / 1e6, stepNs / 1e6);
        }

        /** The mean of several workers' phases of one step. */
        public static Phases mean(List<Phases> all) {
            double[] sum = new double[7];
            for (Phases p : all) {
                double[] v = p.values();
                for (int i = 0; i < sum.length; i++) {
                    sum[i] += v[i];
                }
            }
            int n = Math.max(1, all.size());
            return new Phases(sum[0] / n, sum[1] / n, sum[2] / n, sum[3] / n, sum[4] / n, sum[5] / n, sum[6] / n);
        }

        double[] values() {
            return new double[] {dataMs, forwardMs, lossMs, communicationMs, backwardMs, optimizerMs, stepMs};
        }
    }

    /** This row as one CSV line, without the line break. */
    public String toCsv() {
        StringBuilder w = new StringBuilder();
        workers.forEach((id, v) -> w.append(w.length() == 0 ? "" : ";").append(id.replaceAll("[;=,\\s]", "_"))
                .append('=').append(String.format(Locale.ROOT, "%.2f", v)));
        Phases p = phases;
        return String.format(Locale.ROOT, "%d,%d,%.6f,%.2f,%d,%d,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%.4f,%s,%s",
                step, epoch, loss, samplesPerSecond, generation, members, p.dataMs, p.forwardMs, p.lossMs,
                p.communicationMs, p.backwardMs, p.optimizerMs, p.stepMs, p.dataWaitShare(),
                time.truncatedTo(ChronoUnit.MILLIS), w);
    }

    /**
     * Parses one line of a step log.
     *
     * @param where the file and line, for the message
     * @throws IllegalArgumentException (naming {@code where} and the column) when it is not a row of this format
     */
    public static StepRow parse(String line, String where) {
        String[] f = line.split(",", -1);
        if (f.length != COLUMNS) {
            throw new IllegalArgumentException(where + ": " + f.length + " columns, a step log row has " + COLUMNS
                    + " (" + HEADER + ")");
        }
        try {
            Phases phases = new Phases(Double.parseDouble(f[6]), Double.parseDouble(f[7]), Double.parseDouble(f[8]),
                    Double.parseDouble(f[9]), Double.parseDouble(f[10]), Double.parseDouble(f[11]),
                    Double.parseDouble(f[12]));
            return new StepRow(Long.parseLong(f[0]), Integer.parseInt(f[1]), Double.parseDouble(f[2]),
                    Double.parseDouble(f[3]), Long.parseLong(f[4]), Integer.parseInt(f[5]), phases, Instant.parse(f[14]),
                    workers(f[15], where));
        } catch (NumberFormatException | DateTimeParseException e) {
            throw new IllegalArgumentException(where + ": not a step log row (" + e.getMessage() + ")");
        }
    }

    /** The step of a row without parsing the rest, or -1 when the line does not start with one. */
    static long stepOf(String line) {
        int comma = line.indexOf(',');
        try {
            return Long.parseLong(comma < 0 ? line : line.substring(0, comma));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static Map<String, Double> workers(String column, String where) {
        Map<String, Double> out = new LinkedHashMap<>();
        if (column.isEmpty()) {
            return out;
        }
        for (String pair : column.split(";")) {
            int eq = pair.lastIndexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException(where + ": worker_samples_per_s must read id=value;id=value, not "
                        + column);
            }
            out.put(pair.substring(0, eq), Double.parseDouble(pair.substring(eq + 1)));
        }
        return out;
    }

    /** The worker ids of these rows, in order of first appearance. */
    public static List<String> workerIds(List<StepRow> rows) {
        List<String> ids = new ArrayList<>();
        for (StepRow r : rows) {
            r.workers.keySet().stream().filter(id -> !ids.contains(id)).forEach(ids::add);
        }
        return ids;
    }
}
