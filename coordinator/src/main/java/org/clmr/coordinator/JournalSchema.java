package org.clmr.coordinator;

import org.clmr.protocol.UserError;
import org.clmr.protocol.security.Redaction;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Creates the journal and snapshot tables of akka-persistence-jdbc if they are missing. Our own copy of
 * the plugin's schema with every statement idempotent (the shipped H2 script's index has no
 * IF NOT EXISTS, so it fails on an existing database).
 */
public final class JournalSchema {
    private JournalSchema() {
    }

    /** Applies {@code schema/coordinator-KIND.sql} to the database. */
    public static void ensure(CoordinatorSettings.DatabaseSettings db, String url) {
        release(prepare(db, url));
    }

    /**
     * Applies {@code schema/coordinator-KIND.sql} and returns the connection it used, still open: the caller holds
     * it while its pools open and then {@linkplain #release releases} it, so that an embedded database is not
     * closed and opened again in between (an H2 close compacts the file: a few hundred milliseconds of a start).
     */
    public static Connection prepare(CoordinatorSettings.DatabaseSettings db, String url) {
        String script = script(db.kind());
        Connection c = null;
        try {
            c = DriverManager.getConnection(url, db.user(), db.password());
            try (Statement s = c.createStatement()) {
                for (String statement : script.split(";")) {
                    String sql = statement.lines().filter(l -> !l.strip().startsWith("--"))
                            .reduce("", (a, b) -> a + "\n" + b).strip();
                    if (!sql.isEmpty()) {
                        s.execute(sql);
                    }
                }
            }
            return c;
        } catch (SQLException e) {
            release(c);
            // a URL may carry a password (user:pass@host, password=...), and a driver's message may quote the URL
            throw new UserError("cannot prepare the coordinator's database " + Redaction.redactUrl(url) + ": "
                    + Redaction.redactUrl(String.valueOf(e.getMessage()))
                    + "; check clmr.coordinator.database (url, user, password) and that the database is reachable");
        }
    }

    /** Closes a connection of {@link #prepare}; null is nothing to close. */
    public static void release(Connection c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (SQLException e) {
            // the schema is in place; a connection that does not close cleanly is the driver's to reclaim
        }
    }

    private static String script(String kind) {
        String name = "/schema/coordinator-" + kind + ".sql";
        try (InputStream in = JournalSchema.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + name, e);
        }
    }
}
