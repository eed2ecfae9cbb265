package org.clmr.worker.collective;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class BucketLayoutTest {

    @Test
    void shouldCutWholeTensorsFromTheEndOnceARunReachesTheTarget() {
        // tensors [0,5) [5,8) [8,16) [16,18)
        BucketLayout b = BucketLayout.of(new long[] {5, 3, 8, 2}, 6);
        assertEquals(2, b.count());
        assertEquals(2, b.fromTensor(0));
        assertEquals(4, b.toTensor(0));
        assertEquals(8, b.fromElement(0));
        assertEquals(18, b.toElement(0));
        assertEquals(0, b.fromTensor(1));
        assertEquals(2, b.toTensor(1));
        assertEquals(0, b.fromElement(1));
        assertEquals(8, b.length(1));
    }

    @Test
    void shouldCoverTheVectorOnceInContiguousBucketsWhateverTheTarget() {
        long[] sizes = {384, 128, 128, 128, 49152, 128, 128, 128, 786432, 512, 512, 512, 262144, 65536};
        for (int target : new int[] {1, 100, 60_000, 1 << 20, Integer.MAX_VALUE}) {
            BucketLayout b = BucketLayout.of(sizes, target);
            int end = (int) java.util.Arrays.stream(sizes).sum();
            int tensorEnd = sizes.length;
            for (int i = 0; i < b.count(); i++) {
                assertEquals(end, b.toElement(i), "bucket " + i + " of target " + target);
                assertEquals(tensorEnd, b.toTensor(i));
                end = b.fromElement(i);
                tensorEnd = b.fromTensor(i);
            }
            assertEquals(0, end);
            assertEquals(0, tensorEnd);
        }
        assertEquals(sizes.length, BucketLayout.of(sizes, 1).count(), "one tensor each");
        assertEquals(1, BucketLayout.of(sizes, Integer.MAX_VALUE).count());
    }

    /** The paper preset's parameters in 1 Mi-element buckets: the head with the last segment, then most blocks. */
    @Test
    void shouldPutThePaperPresetsHeadAndLateSegmentsInTheEarlyBuckets() {
        long[] sizes = paperSizes();
        BucketLayout b = BucketLayout.of(sizes, 1 << 20);
        assertEquals(3, b.count(), b.toString());
        assertEquals(40, b.fromTensor(0), "bucket 0: the last segment (tensors 40-43) and the head");
        assertEquals(20, b.fromTensor(1), "bucket 1: segments 5 to 9");
        assertEquals(0, b.fromTensor(2));
    }

    @Test
    void shouldRefuseAnEmptyTarget() {
        assertThrows(IllegalArgumentException.class, () -> BucketLayout.of(new long[] {1}, 0));
    }

    /** Conv w, b, BN w, b of the stem, nine blocks and the last conv; then the head (512x512, 128x512). */
    static long[] paperSizes() {
        int[] out = {128, 128, 128, 256, 256, 256, 256, 256, 256, 512, 512};
        long[] sizes = new long[out.length * 4 + 2];
        int in = 1;
        for (int i = 0; i < out.length; i++) {
            sizes[4 * i] = (long) out[i] * in * 3;
            sizes[4 * i + 1] = out[i];
            sizes[4 * i + 2] = out[i];
            sizes[4 * i + 3] = out[i];
            in = out[i];
        }
        sizes[out.length * 4] = 512 * 512;
        sizes[out.length * 4 + 1] = 128 * 512;
        return sizes;
    }
}
