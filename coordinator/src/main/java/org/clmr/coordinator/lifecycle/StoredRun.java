package org.clmr.coordinator.lifecycle;

import org.clmr.protocol.checkpoint.CheckpointCorruptException;
import org.clmr.protocol.checkpoint.CheckpointRecord;
import org.clmr.protocol.checkpoint.CheckpointStore;
import org.clmr.protocol.cluster.IfRunExists;

import java.util.ArrayList;
import java.util.List;

/**
 * What the checkpoint store held of a run id when an operator started it, and what the start did to it (with
 * {@link IfRunExists#FRESH_KEEP} its checkpoints moved to another run id, with {@link IfRunExists#FRESH_DROP}
 * they were deleted). Built on Akka's blocking dispatcher by {@link #lookUp}; immutable.
 *
 * @param checkpoints what the store held, oldest step first
 * @param resumable   for {@link IfRunExists#RESUME}: the newest checkpoint that read back whole, or null
 * @param unreadable  for {@link IfRunExists#RESUME}: newer checkpoints that did not (one line each)
 * @param archivedAs  for {@link IfRunExists#FRESH_KEEP}: the run id they now belong to, or null
 * @param dropped     for {@link IfRunExists#FRESH_DROP}: how many were deleted
 */
public record StoredRun(List<CheckpointRecord> checkpoints, CheckpointRecord resumable, List<String> unreadable,
                        String archivedAs, int dropped) {

    public StoredRun {
        checkpoints = List.copyOf(checkpoints);
        unreadable = List.copyOf(unreadable);
    }

    /** The prefix of the run ids that archived checkpoints move to: {@code ID.archived-N}. */
    public static final String ARCHIVED = ".archived-";

    /**
     * Looks run {@code runId} up in {@code store} and, as {@code existing} says, finds its newest whole checkpoint,
     * archives its checkpoints or deletes them. Blocking.
     */
    public static StoredRun lookUp(CheckpointStore store, String runId, IfRunExists existing) {
        List<CheckpointRecord> all = store.list(runId);
        if (all.isEmpty()) {
            return new StoredRun(all, null, List.of(), null, 0);
        }
        switch (existing) {
            case RESUME -> {
                List<String> unreadable = new ArrayList<>();
                for (int i = all.size() - 1; i >= 0; i--) {
                    try {
                        store.read(all.get(i));
                        return new StoredRun(all, all.get(i), unreadable, null, 0);
                    } catch (CheckpointCorruptException e) {
                        unreadable.add(e.getMessage());
                    }
                }
                return new StoredRun(all, null, unreadable, null, 0);
            }
            case FRESH_KEEP -> {
                int n = 1;
                while (!store.list(runId + ARCHIVED + n).isEmpty()) {
                    n++;
                }
                store.rename(runId, runId + ARCHIVED + n);
                return new StoredRun(all, null, List.of(), runId + ARCHIVED + n, 0);
            }
            case FRESH_DROP -> {
                return new StoredRun(all, null, List.of(), null, store.deleteAll(runId));
            }
            default -> {
                return new StoredRun(all, null, List.of(), null, 0);
            }
        }
    }

    /** Steps of the checkpoints, for messages: "3 checkpoints (steps 4..12)". */
    public String describe() {
        if (checkpoints.isEmpty()) {
            return "no checkpoints";
        }
        return checkpoints.size() + " checkpoint" + (checkpoints.size() == 1 ? "" : "s") + " (step"
                + (checkpoints.size() == 1 ? " " + checkpoints.get(0).step()
                : "s " + checkpoints.get(0).step() + ".." + checkpoints.get(checkpoints.size() - 1).step()) + ")";
    }
}
