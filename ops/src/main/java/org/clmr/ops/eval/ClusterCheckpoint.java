package org.clmr.ops.eval;

import com.typesafe.config.Config;
import org.clmr.coordinator.CoordinatorSettings;
import org.clmr.coordinator.history.HistoryEntry;
import org.clmr.coordinator.history.HistoryReader;
import org.clmr.protocol.UserError;
import org.clmr.protocol.checkpoint.CheckpointRecord;
import org.clmr.protocol.checkpoint.DirectoryCheckpointStore;
import org.clmr.protocol.checkpoint.JdbcCheckpointStore;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * {@code --checkpoint RUN_DIR} of a cluster run: its checkpoints are in the coordinator's database, so the newest
 * committed checkpoint of the run the journal started last is copied (written and verified) into
 * {@code RUN_DIR/checkpoints/RUN_ID/}, where {@code clmr evaluate} and {@code clmr embed} read it as they read
 * {@code clmr train}'s. A copy already there is used as it is. Caller's thread.
 */
final class ClusterCheckpoint {
    private ClusterCheckpoint() {
    }

    /** {@code path} itself, or for a cluster run directory the checkpoint directory its newest checkpoint is copied to. */
    static Path resolve(Config config, Path path) {
        if (!Files.isRegularFile(path.resolve("coordinator.mv.db"))) {
            return path;
        }
        List<HistoryEntry> started = HistoryReader.offline(config, path, Duration.ofSeconds(60)).stream()
                .filter(e -> e.kind() == HistoryEntry.Kind.STARTED).toList();
        if (started.isEmpty()) {
            throw new UserError("--checkpoint " + path + ": its coordinator never started a run, so it has no checkpoint");
        }
        String runId = started.get(started.size() - 1).runId();
        CoordinatorSettings.DatabaseSettings db = CoordinatorSettings.from(config).database();
        try (JdbcCheckpointStore store = JdbcCheckpointStore.open(db.jdbcUrl(path), db.user(), db.password(), 1)) {
            CheckpointRecord last = store.latest(runId).orElseThrow(() -> new UserError("--checkpoint " + path + ": run "
                    + runId + " has committed no checkpoint yet; see clmr history --run-dir " + path));
            DirectoryCheckpointStore files = new DirectoryCheckpointStore(path.resolve("checkpoints"));
            boolean copied = Files.isDirectory(files.runDirectory(runId)) && files.list(runId).stream()
                    .anyMatch(r -> r.step() == last.step() && r.sha256().equals(last.sha256()));
            if (!copied) {
                files.write(runId, last.step(), last.epoch(), last.generation(), last.runSpecHash(), store.read(last));
            }
            return files.runDirectory(runId);
        }
    }
}
