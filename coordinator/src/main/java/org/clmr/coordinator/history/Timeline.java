package org.clmr.coordinator.history;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.clmr.coordinator.history.HistoryEntry.Kind;
import org.clmr.coordinator.journal.CoordinatorEvent;
import org.clmr.coordinator.journal.CoordinatorEvent.CheckpointRecorded;
import org.clmr.coordinator.journal.CoordinatorEvent.EpochCompleted;
import org.clmr.coordinator.journal.CoordinatorEvent.GenerationStarted;
import org.clmr.coordinator.journal.CoordinatorEvent.RunCompleted;
import org.clmr.coordinator.journal.CoordinatorEvent.RunPaused;
import org.clmr.coordinator.journal.CoordinatorEvent.RunResumed;
import org.clmr.coordinator.journal.CoordinatorEvent.RunStarted;
import org.clmr.coordinator.journal.CoordinatorEvent.WorkerJoined;
import org.clmr.coordinator.journal.CoordinatorEvent.WorkerRemoved;
import org.clmr.coordinator.journal.WorkerInfo;
import org.clmr.protocol.checkpoint.CheckpointRecord;
import org.clmr.protocol.cluster.CoordinatorProtocol.ResumePoint;
import org.clmr.protocol.cluster.CoordinatorProtocol.StopReason;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Turns the journal's events, in order, into history entries: one per event, each with a line of text and its
 * facts. It follows the run as it goes (its id, the workers' devices, the current members) only to say more
 * than the event holds (a removed worker's device and whether it was a member). Not thread-safe.
 */
public final class Timeline {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<HistoryEntry> entries = new ArrayList<>();
    private final Map<String, WorkerInfo> workers = new HashMap<>();
    private List<WorkerInfo> members = List.of();
    private long generation;
    private String runId = "";

    /** The entries so far, in journal order. */
    public List<HistoryEntry> entries() {
        return List.copyOf(entries);
    }

    /** Adds the event with journal sequence number {@code sequence}. */
    public void add(long sequence, CoordinatorEvent event) {
        if (event instanceof RunStarted e) {
            runId = e.runId();
            workers.clear();
            members = List.of();
            generation = 0;
            started(sequence, e);
        } else if (event instanceof WorkerJoined e) {
            workers.put(e.worker().workerId(), e.worker());
            joined(sequence, e);
        } else if (event instanceof WorkerRemoved e) {
            removed(sequence, e);
            members = members.stream().filter(w -> !w.workerId().equals(e.workerId())).toList();
        } else if (event instanceof GenerationStarted e) {
            generation = e.generation();
            members = e.members();
            e.members().forEach(w -> workers.put(w.workerId(), w));
            generation(sequence, e);
        } else if (event instanceof CheckpointRecorded e) {
            checkpoint(sequence, e);
        } else if (event instanceof EpochCompleted e) {
            add(sequence, e.at(), Kind.EPOCH, "epoch " + e.epoch() + " completed at step " + e.step(),
                    facts("epoch", e.epoch(), "step", e.step()));
        } else if (event instanceof RunPaused e) {
            add(sequence, e.at(), Kind.PAUSED, "paused: " + e.reason(), facts("reason", e.reason()));
        } else if (event instanceof RunResumed e) {
            add(sequence, e.at(), Kind.RESUMED, "resumed by an operator", facts());
        } else if (event instanceof RunCompleted e) {
            String text = e.reason() == StopReason.FINISHED ? "run " + runId + " finished" : "run " + runId
                    + " stopped by an operator";
            add(sequence, e.at(), Kind.COMPLETED, text, facts("reason", e.reason().name()));
        }
    }

    private void started(long sequence, RunStarted e) {
        long total = e.stepsPerEpoch() * e.spec().epochs();
        String text = String.format(Locale.ROOT, "run %s started: %d epochs of %d steps (%d steps), global batch %d,"
                        + " %s preset, %d tracks of dataset %s; spec %s", e.runId(), e.spec().epochs(), e.stepsPerEpoch(),
                total, e.spec().globalBatch(), e.spec().model().preset(), e.tracks(), shortHash(e.datasetHash()),
                shortHash(e.spec().hash()));
        Map<String, Object> f = facts("specHash", e.spec().hash(), "datasetHash", e.datasetHash(), "tracks", e.tracks(),
                "stepsPerEpoch", e.stepsPerEpoch(), "epochs", e.spec().epochs(), "totalSteps", total,
                "globalBatch", e.spec().globalBatch());
        f.put("spec", spec(e));
        add(sequence, e.at(), Kind.STARTED, text, f);
    }

    private void joined(long sequence, WorkerJoined e) {
        WorkerInfo w = e.worker();
        String held = w.held() == null ? "" : "; holds step " + w.held().step() + " of run " + w.held().runId();
        String text = String.format(Locale.ROOT, "%s registered (%s on %s, %.1f samples/s)%s; joins at the next"
                + " generation", w.workerId(), w.device(), w.host(), w.samplesPerSecond(), held);
        Map<String, Object> f = facts("worker", w.workerId(), "host", w.host(), "device", w.device(),
                "samplesPerSecond", w.samplesPerSecond());
        if (w.held() != null) {
            f.put("heldStep", w.held().step());
        }
        add(sequence, e.at(), Kind.JOINED, text, f);
    }

    private void removed(long sequence, WorkerRemoved e) {
        boolean member = members.stream().anyMatch(w -> w.workerId().equals(e.workerId()));
        WorkerInfo w = workers.get(e.workerId());
        String reason = e.reason().name().toLowerCase(Locale.ROOT).replace('_', ' ');
        String text = e.workerId() + (w == null ? "" : " (" + w.device() + " on " + w.host() + ")") + " removed: "
                + reason + (member ? "; it was a member of generation " + generation : "; it was waiting to join");
        add(sequence, e.at(), Kind.REMOVED, text, facts("worker", e.workerId(), "reason", e.reason().name(),
                "wasMember", member, "generation", generation));
    }

    private void generation(long sequence, GenerationStarted e) {
        List<String> shown = new ArrayList<>();
        List<Map<String, Object>> listed = new ArrayList<>();
        for (int rank = 0; rank < e.members().size(); rank++) {
            WorkerInfo w = e.members().get(rank);
            shown.add(String.format(Locale.ROOT, "%s (%s) share %d", w.workerId(), w.device(), w.share()));
            listed.add(facts("rank", rank, "worker", w.workerId(), "host", w.host(), "device", w.device(),
                    "share", w.share(), "samplesPerSecond", w.samplesPerSecond()));
        }
        ResumePoint r = e.resume();
        String text = "generation " + e.generation() + " (" + e.reason() + "): " + e.members().size() + " member"
                + (e.members().size() == 1 ? "" : "s") + " " + String.join(", ", shown) + "; resumes from "
                + r.describe();
        Map<String, Object> resume = facts("step", r.step(), "epoch", r.epoch(), "from", r.broadcastRank() >= 0
                ? "rank" : r.checkpoint() != null ? "checkpoint" : "seed", "broadcastRank", r.broadcastRank());
        if (r.checkpoint() != null) {
            resume.put("checkpoint", r.checkpoint().location());
        }
        Map<String, Object> f = facts("generation", e.generation(), "reason", e.reason());
        f.put("members", listed);
        f.put("resume", resume);
        add(sequence, e.at(), Kind.GENERATION, text, f);
    }

    private void checkpoint(long sequence, CheckpointRecorded e) {
        CheckpointRecord c = e.record();
        String text = String.format(Locale.ROOT, "checkpoint %d: step %d (epoch %d), %s, verified, sha256 %s, %s",
                e.checkpointId(), c.step(), c.epoch(), bytes(c.sizeBytes()), shortHash(c.sha256()), c.location());
        add(sequence, e.at(), Kind.CHECKPOINT, text, facts("checkpointId", e.checkpointId(), "step", c.step(),
                "epoch", c.epoch(), "generation", c.generation(), "sizeBytes", c.sizeBytes(), "sha256", c.sha256(),
                "location", c.location(), "createdAt", c.createdAt().toString(), "verified", true));
    }

    private void add(long sequence, Instant at, Kind kind, String text, Map<String, Object> details) {
        entries.add(new HistoryEntry(sequence, at, runId, kind, text, details));
    }

    private static Map<String, Object> spec(RunStarted e) {
        try {
            return JSON.readValue(e.spec().canonicalJson(), new TypeReference<LinkedHashMap<String, Object>>() { });
        } catch (JsonProcessingException ex) {
            throw new IllegalStateException("a RunSpec's canonical JSON did not parse back", ex);
        }
    }

    private static Map<String, Object> facts(Object... pairs) {
        Map<String, Object> f = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            f.put((String) pairs[i], pairs[i + 1]);
        }
        return f;
    }

    private static String shortHash(String hash) {
        return hash.length() > 12 ? hash.substring(0, 12) : hash;
    }

    /** A size as a person reads it (1024-based). */
    static String bytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
