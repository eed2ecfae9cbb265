package org.clmr.worker.collective;

import java.util.ArrayList;
import java.util.List;

/**
 * Fixed all-reduce buckets over a flat vector made of tensors laid end to end: contiguous runs of whole
 * tensors, cut from the end of the vector backwards (the order in which a backward pass finishes them) as
 * soon as a run reaches the target size. The layout depends on the tensors' sizes and the target only,
 * never on timing (unlike DDP's bucket rebuild or Horovod's time-based fusion), so every rank cuts the same
 * buckets and issues them in the same order. Summing a bucket sums each of its elements once, in rank order,
 * exactly as an all-reduce of the whole vector would: the bits do not depend on the layout. Immutable.
 */
public final class BucketLayout {
    private final int[] fromTensor;
    private final int[] toTensor;
    private final int[] fromElement;
    private final int[] toElement;

    private BucketLayout(List<int[]> buckets) {
        int n = buckets.size();
        fromTensor = new int[n];
        toTensor = new int[n];
        fromElement = new int[n];
        toElement = new int[n];
        for (int b = 0; b < n; b++) {
            int[] x = buckets.get(b);
            fromTensor[b] = x[0];
            toTensor[b] = x[1];
            fromElement[b] = x[2];
            toElement[b] = x[3];
        }
    }

    /**
     * The buckets of tensors of {@code sizes} (in vector order), each at least {@code targetElements} long
     * but the last one cut (which holds the vector's first tensors).
     */
    public static BucketLayout of(long[] sizes, int targetElements) {
        if (targetElements < 1) {
            throw new IllegalArgumentException("bucket target " + targetElements + " must be at least 1 element");
        }
        long total = 0;
        for (long s : sizes) {
            total += s;
        }
        if (total > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("a vector of " + total + " elements does not fit one array");
        }
        List<int[]> buckets = new ArrayList<>();
        int end = sizes.length;
        int endElement = (int) total;
        int element = endElement;
        for (int t = sizes.length - 1; t >= 0; t--) {
            element -= (int) sizes[t];
            if (endElement - element >= targetElements || t == 0) {
                buckets.add(new int[] {t, end, element, endElement});
                end = t;
                endElement = element;
            }
        }
        return new BucketLayout(buckets);
    }

    /** Number of buckets; bucket 0 holds the vector's last tensors. */
    public int count() {
        return fromTensor.length;
    }

    /** First tensor of bucket {@code b}: the bucket is complete once this tensor is. */
    public int fromTensor(int b) {
        return fromTensor[b];
    }

    /** One past the last tensor of bucket {@code b}. */
    public int toTensor(int b) {
        return toTensor[b];
    }

    /** First element of bucket {@code b} in the flat vector. */
    public int fromElement(int b) {
        return fromElement[b];
    }

    /** One past the last element of bucket {@code b}. */
    public int toElement(int b) {
        return toElement[b];
    }

    /** Elements of bucket {@code b}. */
    public int length(int b) {
        return toElement[b] - fromElement[b];
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("BucketLayout[");
        for (int b = 0; b < count(); b++) {
            s.append(b == 0 ? "" : ", ").append("tensors ").append(fromTensor[b]).append("..").append(toTensor[b] - 1)
                    .append(" (").append(length(b)).append(')');
        }
        return s.append(']').toString();
    }
}
