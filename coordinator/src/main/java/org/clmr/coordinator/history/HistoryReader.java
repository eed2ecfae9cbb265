package org.clmr.coordinator.history;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Adapter;
import akka.actor.typed.javadsl.Behaviors;
import akka.persistence.jdbc.query.javadsl.JdbcReadJournal;
import akka.persistence.query.EventEnvelope;
import akka.persistence.query.PersistenceQuery;
import akka.stream.javadsl.Sink;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import org.clmr.coordinator.CoordinatorSettings;
import org.clmr.coordinator.CoordinatorSettings.DatabaseSettings;
import org.clmr.coordinator.journal.CoordinatorEvent;
import org.clmr.protocol.UserError;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Reads a coordinator's history from its journal through Akka Persistence Query (akka-persistence-jdbc's read
 * journal, {@code currentEventsByPersistenceId}): the events as they are stored, in order, never a live
 * coordinator's state. {@link #read} runs in an actor system configured with the journal (a coordinator node's,
 * for {@code GET /history}); {@link #offline} starts a small local one on a run directory's database and stops it
 * again. Blocks the calling thread until the events are read (an HTTP thread, or the CLI's).
 */
public final class HistoryReader {
    private HistoryReader() {
    }

    /**
     * Every event of the coordinator journal {@code persistenceId}, as history entries.
     *
     * @param system an actor system whose {@code jdbc-read-journal} reads the coordinator's database
     * @throws UserError when the journal cannot be read within {@code timeout}
     */
    public static List<HistoryEntry> read(ActorSystem<?> system, String persistenceId, Duration timeout) {
        JdbcReadJournal journal = PersistenceQuery.get(Adapter.toClassic(system))
                .getReadJournalFor(JdbcReadJournal.class, JdbcReadJournal.Identifier());
        List<EventEnvelope> events;
        try {
            events = journal.currentEventsByPersistenceId(persistenceId, 0L, Long.MAX_VALUE)
                    .runWith(Sink.seq(), system).toCompletableFuture()
                    .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UserError("interrupted while reading the coordinator's journal");
        } catch (ExecutionException e) {
            throw new UserError("cannot read the coordinator's journal (" + rootMessage(e) + "); check"
                    + " clmr.coordinator.database and that the database is reachable");
        } catch (TimeoutException e) {
            throw new UserError("reading the coordinator's journal took longer than " + timeout.toSeconds() + " s");
        }
        Timeline timeline = new Timeline();
        for (EventEnvelope e : events) {
            if (e.event() instanceof CoordinatorEvent event) {
                timeline.add(e.sequenceNr(), event);
            }
        }
        return timeline.entries();
    }

    /**
     * The history in the coordinator database of a run directory, read without a coordinator: the embedded H2
     * file in {@code runDir} by default, or {@code clmr.coordinator.database} (PostgreSQL). Works while a
     * coordinator runs on it too (H2 is opened in its auto-server mode, as the coordinator opens it).
     *
     * @param config the resolved configuration ({@code clmr.coordinator} names the database and persistence id)
     * @throws UserError when there is no coordinator database there, or it cannot be read
     */
    public static List<HistoryEntry> offline(Config config, Path runDir, Duration timeout) {
        CoordinatorSettings settings = CoordinatorSettings.from(config);
        DatabaseSettings db = settings.database();
        String url = db.jdbcUrl(runDir);
        if (db.url().isEmpty()) {
            Path file = runDir.resolve("coordinator.mv.db");
            if (!Files.isRegularFile(file)) {
                throw new UserError("no coordinator database in " + runDir + " (" + file.getFileName() + "): give the"
                        + " --run-dir of a cluster run (clmr coordinator, clmr train --workers, clmr demo's run/), or"
                        + " --coordinator HOST:PORT of a running one; a clmr train run has no journal, only its step log");
            }
            url += ";IFEXISTS=TRUE";  // never create an empty database where none was
        }
        ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "clmr-history",
                readJournal(db, url).withFallback(config));
        try {
            return read(system, settings.persistenceId(), timeout);
        } finally {
            system.terminate();
            try {
                system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | TimeoutException e) {
                // the history is read; a slow shutdown of this throw-away system changes nothing
            }
        }
    }

    /**
     * A local actor system's settings for the read journal on {@code url}: akka-persistence-jdbc's shared database
     * as a coordinator node configures it, a pool of one connection, and no cluster.
     */
    private static Config readJournal(DatabaseSettings db, String url) {
        Map<String, Object> values = Map.ofEntries(
                Map.entry("akka.actor.provider", "local"),
                Map.entry("akka.loglevel", "WARNING"),
                Map.entry("akka.log-dead-letters", "off"),
                Map.entry("akka.coordinated-shutdown.exit-jvm", "off"),
                Map.entry("akka.coordinated-shutdown.run-by-jvm-shutdown-hook", "off"),
                Map.entry("jdbc-journal.use-shared-db", "slick"),
                Map.entry("jdbc-read-journal.use-shared-db", "slick"),
                Map.entry("akka-persistence-jdbc.shared-databases.slick.profile", db.slickProfile()),
                Map.entry("akka-persistence-jdbc.shared-databases.slick.db.url", url),
                Map.entry("akka-persistence-jdbc.shared-databases.slick.db.user", db.user()),
                Map.entry("akka-persistence-jdbc.shared-databases.slick.db.password", db.password()),
                Map.entry("akka-persistence-jdbc.shared-databases.slick.db.driver", db.driver()),
                Map.entry("akka-persistence-jdbc.shared-databases.slick.db.numThreads", 1),
                Map.entry("akka-persistence-jdbc.shared-databases.slick.db.maxConnections", 1),
                Map.entry("akka-persistence-jdbc.shared-databases.slick.db.minConnections", 1));
        Config c = ConfigFactory.empty();
        for (Map.Entry<String, Object> e : values.entrySet()) {
            c = c.withValue(e.getKey(), ConfigValueFactory.fromAnyRef(e.getValue()));
        }
        return c;
    }

    private static String rootMessage(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String m = root.getMessage() == null ? root.toString() : root.getMessage();
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
