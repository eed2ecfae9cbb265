package org.clmr.protocol.checkpoint;

import org.clmr.protocol.run.CheckpointPolicy;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Which checkpoints to keep: the newest {@code keepLast}, and the first checkpoint of every epoch that is
 * a multiple of {@code keepEveryEpochs} (when that is positive). A pure function of the listing.
 */
public record RetentionPolicy(int keepLast, int keepEveryEpochs) {

    public RetentionPolicy {
        if (keepLast < 1) {
            throw new IllegalArgumentException("keepLast must be >= 1, was " + keepLast);
        }
        if (keepEveryEpochs < 0) {
            throw new IllegalArgumentException("keepEveryEpochs must be >= 0, was " + keepEveryEpochs);
        }
    }

    /** The retention part of a run's checkpoint policy. */
    public static RetentionPolicy of(CheckpointPolicy policy) {
        return new RetentionPolicy(policy.keepLast(), policy.keepEveryEpochs());
    }

    /** The records to delete, oldest first; never the newest. */
    public List<CheckpointRecord> toDelete(List<CheckpointRecord> records) {
        List<CheckpointRecord> sorted = new ArrayList<>(records);
        sorted.sort(Comparator.comparingLong(CheckpointRecord::step));
        Set<Long> keep = new HashSet<>();
        for (int i = Math.max(0, sorted.size() - keepLast); i < sorted.size(); i++) {
            keep.add(sorted.get(i).step());
        }
        if (keepEveryEpochs > 0) {
            Set<Integer> epochsSeen = new HashSet<>();
            for (CheckpointRecord r : sorted) {
                if (r.epoch() % keepEveryEpochs == 0 && epochsSeen.add(r.epoch())) {
                    keep.add(r.step());
                }
            }
        }
        List<CheckpointRecord> doomed = new ArrayList<>();
        for (CheckpointRecord r : sorted) {
            if (!keep.contains(r.step())) {
                doomed.add(r);
            }
        }
        return doomed;
    }
}
