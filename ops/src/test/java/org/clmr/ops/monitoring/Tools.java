package org.clmr.ops.monitoring;

import org.clmr.protocol.security.ThrowawayKeys;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The monitoring files under ops/ and the Prometheus binaries the tests run (skipped where absent). */
final class Tools {
    /** ops/prometheus (tests run in the ops module's directory). */
    static final Path PROMETHEUS_DIR = Path.of("prometheus").toAbsolutePath();
    static final Path ALERTS = PROMETHEUS_DIR.resolve("alerts.yml");
    static final Path CONFIG = PROMETHEUS_DIR.resolve("prometheus.yml");
    static final Path DASHBOARD = Path.of("grafana", "clmr.json").toAbsolutePath();
    static final Path RUNBOOK = Path.of("RUNBOOK.md").toAbsolutePath();

    /** Metric names: ours and the standard JVM/process ones; Prometheus's own {@code up} is not exposed by us. */
    private static final Pattern METRIC = Pattern.compile("\\b((?:clmr|jvm|process)_[A-Za-z0-9_]+)\\b");
    private static final Pattern CREDENTIALS_FILE = Pattern.compile("(credentials_file: )\\S+");
    private static final Pattern CA_FILE = Pattern.compile("(ca_file: )\\S+");
    private static final Pattern EXPR = Pattern.compile("\"(?:expr|query|definition)\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");

    private Tools() {
    }

    /** The executable on PATH, if any. */
    static Optional<Path> onPath(String name) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path p = Path.of(dir, name);
            if (Files.isExecutable(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /** The executable, or the test is skipped with a line saying so. */
    static Path require(String name) {
        Optional<Path> p = onPath(name);
        assumeTrue(p.isPresent(), name + " is not on PATH: skipped (Debian/Ubuntu: apt-get install prometheus; .ci/run installs it)");
        return p.get();
    }

    /** Runs a command in {@code dir}; returns its output; fails the test on a non-zero exit. */
    static String run(Path dir, List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), command + " did not finish");
        String text = new String(out, StandardCharsets.UTF_8);
        assertTrue(p.exitValue() == 0, command + " exited " + p.exitValue() + ":\n" + text);
        return text;
    }

    /**
     * The shipped prometheus.yml with every secret file it names (the control token's {@code credentials_file},
     * the run CA's {@code ca_file}) pointed at throw-away material made in {@code dir}, beside a copy of
     * alerts.yml: what a deployment holds at those paths, so that {@code promtool check config}, which opens them,
     * can check the rest.
     *
     * @param token the control token's file (the scrape test gives its local cluster's), or null for a throw-away one
     * @return the configuration file in {@code dir}
     */
    static Path configWithSecrets(Path dir, String config, Path token) throws IOException {
        ThrowawayKeys keys = ThrowawayKeys.inRunDir(dir.resolve("secrets"));
        Path tokenFile = token != null ? token : keys.tokenFile();
        String text = CREDENTIALS_FILE.matcher(config).replaceAll("$1" + Matcher.quoteReplacement(tokenFile.toString()));
        text = CA_FILE.matcher(text).replaceAll("$1" + Matcher.quoteReplacement(keys.keyDir().resolve("ca.crt").toString()));
        Files.createDirectories(dir);
        Files.copy(ALERTS, dir.resolve("alerts.yml"), StandardCopyOption.REPLACE_EXISTING);
        Path file = dir.resolve("prometheus.yml");
        Files.writeString(file, text);
        return file;
    }

    /** Every metric name the alert rules' expressions use (one-line and block-scalar {@code expr:}). */
    static Set<String> alertMetrics() throws IOException {
        Set<String> names = new LinkedHashSet<>();
        int exprIndent = -1;
        for (String line : Files.readAllLines(ALERTS)) {
            int indent = line.length() - line.stripLeading().length();
            String t = line.strip();
            if (t.startsWith("expr:")) {
                exprIndent = indent;
                names.addAll(metrics(t.substring(5)));
            } else if (exprIndent >= 0 && indent > exprIndent && !t.isEmpty()) {
                names.addAll(metrics(t));
            } else {
                exprIndent = -1;
            }
        }
        return names;
    }

    /** Every metric name the dashboard's queries use. */
    static Set<String> dashboardMetrics() throws IOException {
        Set<String> names = new LinkedHashSet<>();
        Matcher m = EXPR.matcher(Files.readString(DASHBOARD));
        while (m.find()) {
            names.addAll(metrics(m.group(1)));
        }
        return names;
    }

    /** The alert names of alerts.yml, in order. */
    static List<String> alertNames() throws IOException {
        List<String> names = new ArrayList<>();
        Matcher m = Pattern.compile("(?m)^\\s*- alert:\\s*(\\w+)").matcher(Files.readString(ALERTS));
        while (m.find()) {
            names.add(m.group(1));
        }
        return names;
    }

    private static Set<String> metrics(String expr) {
        Set<String> names = new LinkedHashSet<>();
        Matcher m = METRIC.matcher(expr);
        while (m.find()) {
            names.add(m.group(1));
        }
        return names;
    }
}
