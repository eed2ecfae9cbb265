package org.clmr.ops.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.Config;
import org.clmr.coordinator.history.HistoryEntry;
import org.clmr.coordinator.history.HistoryFilter;
import org.clmr.coordinator.history.HistoryReader;
import org.clmr.coordinator.http.StatusHttpServer;
import org.clmr.ops.ConfigOptions;
import org.clmr.protocol.config.SettingsException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code clmr history}: what happened to a run, from the coordinator's journal: started, workers joining and
 * removed (with the reason), generations (members with device and share, where each resumed and why),
 * checkpoints, epochs, pauses, resumes and completion, each with its time. From a running coordinator's
 * {@code GET /history}, or offline from a run directory's database; never by asking a coordinator's state.
 */
@Command(name = "history", mixinStandardHelpOptions = true,
        description = {"Print a run's history from the coordinator's journal: start, joins, removals and their reasons,"
                + " generations (members, devices, shares, resume point and why), checkpoints, epochs, pauses,"
                + " resumes, completion; each with its time (UTC).",
                "From a coordinator's HTTP endpoint (--coordinator, default clmr.coordinator.http), or offline from the"
                        + " coordinator database of a run directory (--run-dir; clmr.coordinator.database for PostgreSQL)."})
public final class HistoryCommand implements Callable<Integer> {
    private static final Pattern AGO = Pattern.compile("(\\d+)([smhd])");
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS")
            .withZone(ZoneOffset.UTC);

    @Mixin
    ConfigOptions options;

    @Spec
    CommandSpec spec;

    @Option(names = "--coordinator", paramLabel = "HOST:PORT",
            description = "HTTP endpoint of a running coordinator node (default: clmr.coordinator.http host and port)")
    String coordinator;

    @Option(names = "--run-dir", paramLabel = "DIR",
            description = "Read offline from the coordinator database of this run directory (works while it runs too)")
    Path runDir;

    @Option(names = "--json", description = "Print the entries as one JSON array (sequence, at, runId, kind, text, details)")
    boolean json;

    @Option(names = "--since", paramLabel = "WHEN",
            description = "Only entries from WHEN on: an ISO-8601 instant (2026-12-02T05:00:00Z) or a time ago (90s, 30m, 2h, 1d)")
    String since;

    @Option(names = "--kind", paramLabel = "K[,K...]",
            description = "Only these kinds: started, joined, removed, generation, checkpoint, epoch, paused, resumed, completed")
    String kind;

    @Option(names = "--run-id", paramLabel = "ID", description = "Only this run (the journal holds every run of its coordinator)")
    String runId;

    @Override
    public Integer call() {
        if (coordinator != null && runDir != null) {
            throw new SettingsException("history", "takes --coordinator HOST:PORT or --run-dir DIR, not both");
        }
        Config config = options.load();
        Instant from = since == null ? null : since(since, Clock.systemUTC());
        HistoryFilter filter;
        try {
            filter = new HistoryFilter(from, HistoryFilter.kinds(kind == null ? "" : kind), runId);
        } catch (IllegalArgumentException e) {
            throw new SettingsException("--kind", kind, e.getMessage());
        }
        JsonNode entries = runDir != null
                ? StatusHttpServer.JSON.valueToTree(filter.apply(HistoryReader.offline(config, runDir, Duration.ofSeconds(60))))
                : CoordinatorClient.of(coordinator, config).get("/history" + query(filter));
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(entries.toString());
        } else {
            print(entries, out);
        }
        out.flush();
        return 0;
    }

    /** The entries as a table: time (UTC), kind, what happened. */
    static void print(JsonNode entries, PrintWriter out) {
        if (entries.isEmpty()) {
            out.println("no history entries (none in the journal, or none that pass the filters)");
            return;
        }
        out.printf(Locale.ROOT, "%-23s  %-10s  %s%n", "time (UTC)", "kind", "what");
        for (JsonNode e : entries) {
            out.printf(Locale.ROOT, "%-23s  %-10s  %s%n", TIME.format(Instant.parse(e.get("at").asText())),
                    e.get("kind").asText(), e.get("text").asText());
        }
    }

    /** An ISO-8601 instant, or a time before {@code clock}'s now such as 30m. */
    static Instant since(String value, Clock clock) {
        Matcher m = AGO.matcher(value.strip());
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            Duration d = switch (m.group(2)) {
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofDays(n);
            };
            return clock.instant().minus(d);
        }
        try {
            return Instant.parse(value.strip());
        } catch (DateTimeParseException e) {
            throw new SettingsException("--since", value,
                    "must be an ISO-8601 instant such as 2026-12-02T05:00:00Z or a time ago such as 90s, 30m, 2h, 1d");
        }
    }

    private static String query(HistoryFilter f) {
        StringBuilder q = new StringBuilder();
        if (f.since() != null) {
            q.append("&since=").append(f.since());
        }
        if (f.kinds().size() < HistoryEntry.Kind.values().length) {
            q.append("&kind=").append(String.join(",", f.kinds().stream().map(HistoryEntry.Kind::label).toList()));
        }
        if (f.runId() != null) {
            q.append("&run-id=").append(URLEncoder.encode(f.runId(), StandardCharsets.UTF_8));
        }
        return q.isEmpty() ? "" : "?" + q.substring(1);
    }
}
