package org.clmr.coordinator;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.util.Base64;
import java.util.List;
import java.util.function.Predicate;

/**
 * The journal of {@code journal/before-desks.txt}: events and snapshots as the coordinator wrote them to H2 before
 * its events and state moved and one event was renamed (run-p started, w1 joined (generation 1), checkpoint 1 of
 * step 4 committed, epoch 0 completed at step 5, paused, resumed (generation 2), w2 joined and left, stopped).
 */
public final class JournalFixture {
    private static final String FIXTURE = "/journal/before-desks.txt";

    private JournalFixture() {
    }

    /** Creates the coordinator's tables in the database of {@code runDir} and inserts the rows {@code rows} accepts. */
    public static void load(CoordinatorSettings.DatabaseSettings settings, Path runDir, Predicate<String> rows)
            throws Exception {
        String url = settings.jdbcUrl(runDir);
        JournalSchema.ensure(settings, url);
        try (Connection c = DriverManager.getConnection(url, settings.user(), settings.password())) {
            for (String row : rows()) {
                if (rows.test(row)) {
                    insert(c, row.split(" "));
                }
            }
        }
    }

    private static List<String> rows() throws IOException {
        try (InputStream in = JournalFixture.class.getResourceAsStream(FIXTURE)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines()
                    .filter(l -> !l.isBlank() && !l.startsWith("#")).toList();
        }
    }

    private static void insert(Connection c, String[] f) throws Exception {
        if (f[0].equals("event")) {
            try (PreparedStatement s = c.prepareStatement("INSERT INTO \"event_journal\" (\"persistence_id\", "
                    + "\"sequence_number\", \"writer\", \"write_timestamp\", \"adapter_manifest\", \"event_ser_id\", "
                    + "\"event_ser_manifest\", \"event_payload\") VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
                s.setString(1, f[1]);
                s.setLong(2, Long.parseLong(f[2]));
                s.setString(3, f[3]);
                s.setLong(4, Long.parseLong(f[4]));
                s.setString(5, f[5].substring(1, f[5].length() - 1));
                s.setInt(6, Integer.parseInt(f[6]));
                s.setString(7, f[7]);
                s.setBytes(8, Base64.getDecoder().decode(f[8]));
                s.executeUpdate();
            }
        } else {
            try (PreparedStatement s = c.prepareStatement("INSERT INTO \"snapshot\" (\"persistence_id\", "
                    + "\"sequence_number\", \"created\", \"snapshot_ser_id\", \"snapshot_ser_manifest\", "
                    + "\"snapshot_payload\") VALUES (?, ?, ?, ?, ?, ?)")) {
                s.setString(1, f[1]);
                s.setLong(2, Long.parseLong(f[2]));
                s.setLong(3, Long.parseLong(f[3]));
                s.setInt(4, Integer.parseInt(f[4]));
                s.setString(5, f[5]);
                s.setBytes(6, Base64.getDecoder().decode(f[6]));
                s.executeUpdate();
            }
        }
    }
}
