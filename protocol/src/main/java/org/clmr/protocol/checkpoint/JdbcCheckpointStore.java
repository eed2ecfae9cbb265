package org.clmr.protocol.checkpoint;

import org.clmr.protocol.Sha256;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;

import javax.sql.DataSource;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Checkpoints in one table ({@value #TABLE}) of a JDBC database, by default the coordinator's own (H2 or
 * PostgreSQL). One row per (run id, step): the record's facts and the payload. {@link #write} inserts in
 * one transaction, then reads the row back in another and compares size and SHA-256; a mismatch deletes
 * the row and throws. Thread-safe: every call takes its own pooled connection.
 */
public final class JdbcCheckpointStore implements CheckpointStore {
    /** The table's name. */
    public static final String TABLE = "clmr_checkpoint";

    private final DataSource dataSource;
    private final HikariDataSource owned;

    /** A store over a pool someone else owns (and closes). Creates the table if it is missing. */
    public JdbcCheckpointStore(DataSource dataSource) {
        this(dataSource, null);
    }

    private JdbcCheckpointStore(DataSource dataSource, HikariDataSource owned) {
        this.dataSource = dataSource;
        this.owned = owned;
        createTable();
    }

    /**
     * A store with its own HikariCP pool, closed by {@link #close()}.
     *
     * @param url      JDBC URL, e.g. {@code jdbc:h2:file:/runs/r1/coordinator;AUTO_SERVER=TRUE} or
     *                 {@code jdbc:postgresql://db:5432/clmr}
     * @param poolSize maximum connections
     */
    public static JdbcCheckpointStore open(String url, String user, String password, int poolSize) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url);
        config.setUsername(user);
        config.setPassword(password);
        config.setMaximumPoolSize(poolSize);
        config.setMinimumIdle(0);
        config.setPoolName("clmr-checkpoints");
        HikariDataSource ds = new HikariDataSource(config);
        try {
            return new JdbcCheckpointStore(ds, ds);
        } catch (RuntimeException e) {
            ds.close();
            throw e;
        }
    }

    private void createTable() {
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
            String product = c.getMetaData().getDatabaseProductName().toLowerCase(Locale.ROOT);
            String blob = product.contains("postgres") ? "BYTEA" : "BLOB";
            s.execute("CREATE TABLE IF NOT EXISTS " + TABLE + " ("
                    + "run_id VARCHAR(255) NOT NULL, "
                    + "step BIGINT NOT NULL, "
                    + "epoch INTEGER NOT NULL, "
                    + "generation BIGINT NOT NULL, "
                    + "size_bytes BIGINT NOT NULL, "
                    + "sha256 CHAR(64) NOT NULL, "
                    + "created_at_ms BIGINT NOT NULL, "
                    + "run_spec_hash VARCHAR(64) NOT NULL, "
                    + "payload " + blob + " NOT NULL, "
                    + "PRIMARY KEY (run_id, step))");
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create table " + TABLE + ": " + e.getMessage(), e);
        }
    }

    @Override
    public CheckpointRecord write(String runId, long step, int epoch, long generation, String runSpecHash,
                                  byte[] payload) {
        String sha = sha256(payload);
        Instant createdAt = Instant.ofEpochMilli(System.currentTimeMillis());
        CheckpointRecord record = new CheckpointRecord(runId, step, epoch, generation, payload.length, sha,
                createdAt, runSpecHash, location(runId, step));
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try (PreparedStatement del = c.prepareStatement("DELETE FROM " + TABLE + " WHERE run_id = ? AND step = ?");
                 PreparedStatement ins = c.prepareStatement("INSERT INTO " + TABLE
                         + " (run_id, step, epoch, generation, size_bytes, sha256, created_at_ms, run_spec_hash, payload)"
                         + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                del.setString(1, runId);
                del.setLong(2, step);
                del.executeUpdate();
                ins.setString(1, runId);
                ins.setLong(2, step);
                ins.setInt(3, epoch);
                ins.setLong(4, generation);
                ins.setLong(5, payload.length);
                ins.setString(6, sha);
                ins.setLong(7, createdAt.toEpochMilli());
                ins.setString(8, runSpecHash);
                ins.setBinaryStream(9, new ByteArrayInputStream(payload), payload.length);
                ins.executeUpdate();
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new CheckpointWriteException("cannot write checkpoint " + record.location() + ": " + e.getMessage(), e);
        }
        try {
            read(record);
        } catch (CheckpointCorruptException e) {
            delete(record);
            throw e;
        }
        return record;
    }

    @Override
    public byte[] read(CheckpointRecord record) {
        try (Connection c = dataSource.getConnection();
             PreparedStatement q = c.prepareStatement("SELECT payload FROM " + TABLE + " WHERE run_id = ? AND step = ?")) {
            q.setString(1, record.runId());
            q.setLong(2, record.step());
            try (ResultSet rs = q.executeQuery()) {
                if (!rs.next()) {
                    throw new CheckpointCorruptException("checkpoint " + record.location() + " is not in table " + TABLE
                            + "; it was deleted or never written");
                }
                byte[] payload;
                try (InputStream in = rs.getBinaryStream(1)) {
                    payload = in.readAllBytes();
                }
                String sha = sha256(payload);
                if (payload.length != record.sizeBytes() || !sha.equals(record.sha256())) {
                    throw new CheckpointCorruptException("checkpoint " + record.location() + ": expected "
                            + record.sizeBytes() + " bytes sha256=" + record.sha256() + ", stored " + payload.length
                            + " bytes sha256=" + sha + "; it cannot be a resume point");
                }
                return payload;
            }
        } catch (SQLException | IOException e) {
            throw new CheckpointCorruptException("cannot read checkpoint " + record.location() + ": " + e.getMessage());
        }
    }

    @Override
    public List<CheckpointRecord> list(String runId) {
        List<CheckpointRecord> out = new ArrayList<>();
        try (Connection c = dataSource.getConnection();
             PreparedStatement q = c.prepareStatement("SELECT step, epoch, generation, size_bytes, sha256, created_at_ms,"
                     + " run_spec_hash FROM " + TABLE + " WHERE run_id = ? ORDER BY step")) {
            q.setString(1, runId);
            try (ResultSet rs = q.executeQuery()) {
                while (rs.next()) {
                    long step = rs.getLong(1);
                    out.add(new CheckpointRecord(runId, step, rs.getInt(2), rs.getLong(3), rs.getLong(4),
                            rs.getString(5).trim(), Instant.ofEpochMilli(rs.getLong(6)), rs.getString(7),
                            location(runId, step)));
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot list checkpoints of run " + runId + ": " + e.getMessage(), e);
        }
        return out;
    }

    @Override
    public Optional<CheckpointRecord> find(String runId, long step) {
        return list(runId).stream().filter(r -> r.step() == step).findFirst();
    }

    @Override
    public void delete(CheckpointRecord record) {
        try (Connection c = dataSource.getConnection();
             PreparedStatement d = c.prepareStatement("DELETE FROM " + TABLE + " WHERE run_id = ? AND step = ?")) {
            d.setString(1, record.runId());
            d.setLong(2, record.step());
            d.executeUpdate();
        } catch (SQLException e) {
            throw new IllegalStateException("cannot delete checkpoint " + record.location() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public int rename(String runId, String newRunId) {
        try (Connection c = dataSource.getConnection();
             PreparedStatement u = c.prepareStatement("UPDATE " + TABLE + " SET run_id = ? WHERE run_id = ?")) {
            u.setString(1, newRunId);
            u.setString(2, runId);
            return u.executeUpdate();
        } catch (SQLException e) {
            throw new CheckpointWriteException("cannot move the checkpoints of run " + runId + " to run " + newRunId
                    + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        if (owned != null) {
            owned.close();
        }
    }

    /** Where a checkpoint lives in this store. */
    static String location(String runId, long step) {
        return "jdbc:" + TABLE + "#" + runId + "/" + step;
    }

    /** SHA-256 of bytes, hex. */
    static String sha256(byte[] bytes) {
        return Sha256.hex(bytes);
    }
}
