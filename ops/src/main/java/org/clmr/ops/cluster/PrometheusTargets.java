package org.clmr.ops.cluster;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Prometheus file-based service discovery for a local cluster: {@code RUN_DIR/prometheus/targets.json}
 * lists the coordinator's and every worker's metrics address, labelled {@code job="clmr-coordinator"}
 * and {@code job="clmr-worker"} (the jobs {@code ops/prometheus/alerts.yml} expects). Prometheus
 * re-reads the file when it changes; it is replaced atomically, and emptied when the cluster stops, so
 * a finished run leaves no targets that look down.
 */
public final class PrometheusTargets {
    /** The line a worker logs at start with its endpoint. */
    public static final Pattern WORKER_METRICS = Pattern.compile("metrics: http://([\\w.\\-]+:\\d+)/metrics");
    /** Prometheus job of the coordinator's target. */
    public static final String COORDINATOR_JOB = "clmr-coordinator";
    /** Prometheus job of the workers' targets. */
    public static final String WORKER_JOB = "clmr-worker";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private PrometheusTargets() {
    }

    /** {@code runDir/prometheus/targets.json}. */
    public static Path file(Path runDir) {
        return runDir.resolve("prometheus").resolve("targets.json");
    }

    /**
     * Writes the targets (host:port each).
     *
     * @param coordinator the coordinator's HTTP address, or null for none
     */
    public static void write(Path runDir, String coordinator, List<String> workers) {
        List<Map<String, Object>> groups = new ArrayList<>();
        if (coordinator != null) {
            groups.add(Map.of("targets", List.of(coordinator), "labels", Map.of("job", COORDINATOR_JOB)));
        }
        if (!workers.isEmpty()) {
            groups.add(Map.of("targets", List.copyOf(workers), "labels", Map.of("job", WORKER_JOB)));
        }
        Path file = file(runDir);
        try {
            Files.createDirectories(file.getParent());
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.write(tmp, JSON.writeValueAsBytes(groups));
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write Prometheus targets " + file, e);
        }
    }

    /** Leaves no targets (the cluster stopped). */
    public static void clear(Path runDir) {
        write(runDir, null, List.of());
    }
}
