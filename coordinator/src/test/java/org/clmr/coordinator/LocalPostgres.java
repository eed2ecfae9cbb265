package org.clmr.coordinator;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A throwaway PostgreSQL cluster for tests: {@code initdb} into a temp directory, {@code pg_ctl start} on
 * a free port (127.0.0.1 only, trust authentication), {@code pg_ctl stop} and delete on close. Uses the
 * Debian binaries under /usr/lib/postgresql/N/bin; as root (which postgres refuses) it runs them as the
 * {@code postgres} user through {@code runuser}. {@link #start()} says why when it cannot.
 */
final class LocalPostgres implements AutoCloseable {
    private static String unavailable;
    private static LocalPostgres shared;

    private final Path bin;
    private final Path dir;
    private final boolean asPostgres;
    final int port;

    private LocalPostgres(Path bin, Path dir, boolean asPostgres, int port) {
        this.bin = bin;
        this.dir = dir;
        this.asPostgres = asPostgres;
        this.port = port;
    }

    /** One cluster for the whole test JVM (stopped at exit), or empty with {@link #whyUnavailable()}. */
    static synchronized Optional<LocalPostgres> shared() {
        if (shared == null && unavailable == null) {
            try {
                shared = start();
                LocalPostgres pg = shared;
                Runtime.getRuntime().addShutdownHook(new Thread(pg::close));
            } catch (Exception e) {
                unavailable = e.getMessage();
            }
        }
        return Optional.ofNullable(shared);
    }

    static String whyUnavailable() {
        return "PostgreSQL tests skipped: " + unavailable;
    }

    /** JDBC URL of a fresh database in this cluster. */
    String newDatabase(String name) throws Exception {
        run(List.of(bin.resolve("createdb").toString(), "-h", "127.0.0.1", "-p", Integer.toString(port), "-U", "clmr", name));
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + name;
    }

    static LocalPostgres start() throws Exception {
        Path root = Path.of("/usr/lib/postgresql");
        if (!Files.isDirectory(root)) {
            throw new IllegalStateException("no PostgreSQL binaries under /usr/lib/postgresql (install Debian's postgresql)");
        }
        Path bin;
        try (Stream<Path> versions = Files.list(root)) {
            bin = versions.map(v -> v.resolve("bin")).filter(b -> Files.isExecutable(b.resolve("initdb")))
                    .max(Comparator.naturalOrder())
                    .orElseThrow(() -> new IllegalStateException("no initdb under /usr/lib/postgresql/*/bin"));
        }
        boolean root0 = "root".equals(System.getProperty("user.name"));
        if (root0 && !Files.isExecutable(Path.of("/usr/sbin/runuser")) && !Files.isExecutable(Path.of("/sbin/runuser"))) {
            throw new IllegalStateException("running as root and no runuser to start postgres as user postgres");
        }
        Path dir = Files.createTempDirectory("clmr-pg-");
        if (root0) {
            exec(List.of("chown", "postgres", dir.toString()));
        }
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        LocalPostgres pg = new LocalPostgres(bin, dir, root0, port);
        pg.run(List.of(bin.resolve("initdb").toString(), "-D", dir.resolve("data").toString(), "-A", "trust", "-U", "clmr"));
        pg.run(List.of(bin.resolve("pg_ctl").toString(), "-D", dir.resolve("data").toString(), "-l",
                dir.resolve("log").toString(), "-w", "-o",
                "-p " + port + " -k " + dir + " -c listen_addresses=127.0.0.1 -c fsync=off", "start"));
        return pg;
    }

    private void run(List<String> command) throws Exception {
        List<String> cmd = new ArrayList<>();
        if (asPostgres) {
            cmd.addAll(List.of("runuser", "-u", "postgres", "--"));
        }
        cmd.addAll(command);
        exec(cmd);
    }

    private static void exec(List<String> cmd) throws Exception {
        List<String> command = cmd;
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed: " + out.strip());
        }
    }

    @Override
    public void close() {
        try {
            run(List.of(bin.resolve("pg_ctl").toString(), "-D", dir.resolve("data").toString(), "-m", "immediate", "stop"));
        } catch (Exception e) {
            System.err.println("could not stop the test PostgreSQL in " + dir + ": " + e.getMessage());
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            System.err.println("could not delete " + dir + ": " + e.getMessage());
        }
    }
}
