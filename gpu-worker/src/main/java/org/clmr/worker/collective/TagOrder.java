package org.clmr.worker.collective;

/**
 * Enforces that a generation's op tags belong to it and strictly increase in (step, sequence): that is
 * what lets a receiver tell a stale frame (of an earlier op) from a frame of a later one.
 */
final class TagOrder {
    private long lastStep = -1;
    private int lastSequence = -1;

    void next(long generation, OpTag tag) {
        if (tag.generation() != generation) {
            throw new IllegalArgumentException("op tag " + tag + " is not of this collective's generation " + generation
                    + "; open a new collective for a new generation");
        }
        if (tag.step() < 0 || tag.sequence() < 0) {
            throw new IllegalArgumentException("op tag " + tag + " has a negative step or sequence");
        }
        if (tag.step() < lastStep || (tag.step() == lastStep && tag.sequence() <= lastSequence)) {
            throw new IllegalArgumentException("op tag " + tag + " does not follow the previous op (step " + lastStep
                    + ", sequence " + lastSequence + "): tags must strictly increase in (step, sequence)");
        }
        lastStep = tag.step();
        lastSequence = tag.sequence();
    }
}
